# Run a Ruby program after checking its syntax. A syntax error goes to the status fd
# (ASSAY_STATUS_FD) so the sandbox reports COMPILE_ERROR; the fd is closed first otherwise.
status_fd = (ENV.delete("ASSAY_STATUS_FD") || "-1").to_i
path = ARGV.shift
begin
  iseq = RubyVM::InstructionSequence.compile_file(path)
rescue SyntaxError => e
  if status_fd >= 0
    io = IO.new(status_fd, "w")
    io.write(e.message)
    io.close
  end
  $stderr.puts e.message
  exit 1
end
IO.new(status_fd).close if status_fd >= 0
$0 = path
iseq.eval
