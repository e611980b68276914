# assay's Ruby test runner, run inside the sandbox by the system ruby.
#
# It reads solution.rb and tests.rb from the work dir and finds the tests: the test methods
# of Minitest::Test and Test::Unit::TestCase classes (named "Class#method"), or, in a file
# without test classes, each top-level statement that raises or asserts (named
# "assert:LINE", run after the plain statements before it). The parent only compiles the
# code; each test runs in its own forked child (which loads the solution and the tests
# afresh) under a time limit, so a crash, a hang or leftover state in one test does not
# touch the others. Results go to the report fd as JSON lines.

require "json"
require "tmpdir"
require "fileutils"
require "securerandom"

REPORT = IO.new(Integer(ENV.delete("ASSAY_REPORT_FD")), "w")
REPORT.sync = true
REPORT.close_on_exec = true
MESSAGE_LIMIT = 2000
# Set by the bwrap sandbox (never by the local backend): every process of our uid in this
# pid namespace, and everything in /tmp, belongs to this run.
SANDBOXED = ENV.delete("ASSAY_SANDBOXED") == "1" && Process.uid != 0
WORK = Dir.pwd
SOLUTION_PATH = File.join(WORK, "solution.rb")
TESTS_PATH = File.join(WORK, "tests.rb")
# Calls that make a top-level statement of a file without test classes a test.
ASSERTING_CALL = /\A(raise|fail|assert|refute|flunk)/
DEFINITIONS = %i[DEFN DEFS CLASS MODULE SCLASS].freeze
# A child's result line starts with this, so that code under test writing to every fd it
# has cannot pass for the child by accident.
NONCE = SecureRandom.hex(12)

def emit(event)
  REPORT.write(JSON.generate(event) + "\n")
end

def short(text)
  text = text.to_s.dup.force_encoding(Encoding::UTF_8).scrub("?")
  text.length <= MESSAGE_LIMIT ? text : text[0, MESSAGE_LIMIT] + "..."
end

def relative(path)
  path.to_s.delete_prefix(WORK + "/")
end

def compile(source, name)
  RubyVM::InstructionSequence.compile(source, name, File.join(WORK, name), 1)
end

# -- the test frameworks -------------------------------------------------------------------

def preload_frameworks(tests_source)
  # Loaded once here so each child does not pay for them; their "run at exit" hooks are
  # disabled, so nothing runs the tests but this runner.
  if tests_source.match?(/minitest/i)
    begin
      require "minitest"
      Minitest.class_variable_set(:@@installed_at_exit, true)
      require "minitest/autorun"
    rescue LoadError
      nil
    end
  end
  return unless tests_source.match?(%r{Test::Unit|test/unit})

  begin
    require "test/unit"
    require "test/unit/testresult"
    Test::Unit::AutoRunner.need_auto_run = false
  rescue LoadError
    nil
  end
end

def framework_of(klass)
  return :minitest if defined?(Minitest::Test) && klass < Minitest::Test
  return :test_unit if defined?(Test::Unit::TestCase) && klass < Test::Unit::TestCase

  nil
end

# name -> [class, method], in the order of the tests file.
def class_tests
  found = []
  ObjectSpace.each_object(Class) do |klass|
    framework = framework_of(klass)
    next if framework.nil? || klass.name.nil?

    prefix = framework == :minitest ? /\Atest_/ : /\Atest./
    klass.public_instance_methods(true).each do |meth|
      next unless meth.to_s.match?(prefix)

      # Only tests written in the tests file: a solution may bring test classes of its own.
      file, line = klass.instance_method(meth).source_location
      found << [line, "#{klass.name}##{meth}", klass, meth.to_s] if file == "tests.rb"
    end
  end
  found.sort_by { |line, name, *| [line, name] }.to_h { |_, name, *rest| [name, rest] }
end

def first_test_location(lines)
  lines.to_a.map(&:to_s).find { |line| line.start_with?("tests.rb:") }&.sub(/:in .*/, "")
end

def describe_error(exc)
  where = first_test_location(exc.backtrace) || exc.backtrace.to_a.first.to_s.sub(/:in .*/, "")
  where = where.empty? ? "" : " (#{relative(where)})"
  short("#{exc.class}: #{exc.message}#{where}")
end

def run_minitest(klass, meth)
  result = klass.new(meth).run
  failure = result.failures.first
  return ["PASS", ""] if failure.nil?

  case failure
  when Minitest::Skip then ["ERROR", short("skipped, so it did not run: #{failure.message}")]
  when Minitest::UnexpectedError then ["ERROR", describe_error(failure.error)]
  else ["FAIL", short("#{failure.message} (#{relative(failure.location)})")]
  end
end

def run_test_unit(klass, meth)
  result = Test::Unit::TestResult.new
  klass.new(meth).run(result) { |*| nil }
  if (failure = result.failures.first)
    where = first_test_location(failure.location)
    ["FAIL", short(failure.message.to_s + (where ? " (#{where})" : ""))]
  elsif (error = result.errors.first)
    ["ERROR", describe_error(error.exception)]
  elsif (skipped = result.omissions.first || result.pendings.first)
    ["ERROR", short("skipped, so it did not run: #{skipped.message}")]
  elsif result.run_count != 1
    ["ERROR", "the test did not run"]
  else
    ["PASS", ""]
  end
end

# -- plain test files: top-level statements that raise or assert ---------------------------

# Whether the node calls raise/assert..., or a helper of the tests file that does.
def asserting?(node, helpers)
  return false unless node.is_a?(RubyVM::AbstractSyntaxTree::Node)
  return true if node.children.any? do |child|
    child.is_a?(Symbol) && (child.to_s.match?(ASSERTING_CALL) || helpers.include?(child))
  end

  node.children.any? { |child| asserting?(child, helpers) }
end

# The names of the top-level methods that raise or assert, directly or through another.
def asserting_helpers(statements)
  definitions = statements.select { |node| node.type == :DEFN }
  helpers = []
  loop do
    found = definitions.select { |node| asserting?(node.children[1], helpers) }
                       .map { |node| node.children[0] }
    return helpers if (found - helpers).empty?

    helpers |= found
  end
end

# [line index, text] of a top-level statement (node columns are byte offsets).
def statement_source(lines, node)
  first, last = node.first_lineno - 1, node.last_lineno - 1
  text = lines[first..last].join.b
  tail = lines[last].bytesize - node.last_column
  text = text.byteslice(node.first_column, text.bytesize - node.first_column - tail)
  [first, text.force_encoding(Encoding::UTF_8)]
end

# The statements in one source where each keeps its line, so error lines stay true.
def join_in_order(pieces)
  text = +""
  pieces.each do |line, piece|
    missing = line - text.count("\n")
    text << (missing.positive? ? "\n" * missing : "; ") << piece
  end
  text
end

# name -> the compiled statements (setup before it, then the test itself).
def plain_tests(tests_source)
  root = RubyVM::AbstractSyntaxTree.parse(tests_source)
  body = root.children[2]
  statements = body.nil? ? [] : (body.type == :BLOCK ? body.children : [body])
  lines = tests_source.lines
  helpers = asserting_helpers(statements)
  setup = []
  tests = {}
  statements.each do |node|
    piece = statement_source(lines, node)
    if DEFINITIONS.include?(node.type) || !asserting?(node, helpers)
      setup << piece
    else
      name = "assert:#{node.first_lineno}"
      name += ":#{tests.keys.count { |key| key.start_with?(name) } + 1}" if tests.key?(name)
      tests[name] = compile(join_in_order(setup + [piece]), "tests.rb")
    end
  end
  tests
end

def run_plain(iseq)
  iseq.eval
  ["PASS", ""]
rescue StandardError => e
  raise unless e.instance_of?(RuntimeError) || e.class.name.to_s.match?(/Assertion|Failure/)

  where = first_test_location(e.backtrace)
  raise if where.nil?

  statement = first_test_location(e.backtrace.reverse)
  where += ", called at #{statement}" if statement != where
  ["FAIL", short("#{e.message} (#{where})")]
end

# -- the children ------------------------------------------------------------------------

# Run in a child: loads the solution; returns the exception it raised, if any.
def load_solution(solution)
  $LOADED_FEATURES << SOLUTION_PATH # so that `require_relative "solution"` is a no-op
  solution&.eval
  nil
rescue Exception => e # rubocop:disable Lint/RescueException - every way is an outcome
  e
end

def child_setup(write, scratch)
  REPORT.close # the code under test must not reach the report channel
  Process.setpgid(0, 0)
  Dir.chdir(scratch) if scratch
  skip_missing_require_relative
  write.sync = true
end

# Test files written for one file often `require_relative` the solution under another name:
# the solution is already loaded, so a file that does not exist is skipped.
def skip_missing_require_relative
  Kernel.module_eval do
    def require_relative(path)
      base = File.expand_path(path, WORK)
      return false unless File.exist?(base) || File.exist?("#{base}.rb")

      require(base)
    end
    module_function :require_relative
  end
end

def finish_child(write, payload)
  write.write("#{NONCE} #{JSON.generate(payload)}\n")
  $stdout.flush
  $stderr.flush
ensure
  exit!(0)
end

# What an exception that escaped a test (an ERROR) says.
def unexpected(exc)
  case exc
  when SystemExit then "the test exited (status #{exc.status}) before finishing"
  when NoMemoryError then "out of memory: #{exc.message}"
  else describe_error(exc)
  end
end

def load_failure(exc)
  return "the solution exited (status #{exc.status}) while loading" if exc.is_a?(SystemExit)

  "loading the solution raised #{describe_error(exc)}"
end

def run_test_child(write, scratch, solution, tests, name, plan)
  child_setup(write, scratch)
  status, message = begin
    error = load_solution(solution)
    if error
      ["ERROR", load_failure(error)]
    elsif plan.is_a?(RubyVM::InstructionSequence)
      run_plain(plan)
    else
      tests.eval
      klass, meth = class_tests[name]
      if klass.nil?
        ["ERROR", "the test is no longer defined when the files are loaded again"]
      elsif framework_of(klass) == :minitest
        run_minitest(klass, meth)
      else
        run_test_unit(klass, meth)
      end
    end
  rescue Exception => e # rubocop:disable Lint/RescueException
    ["ERROR", unexpected(e)]
  end
  finish_child(write, { "status" => status, "message" => short(message) })
end

def discover_child(write, scratch, solution, tests)
  child_setup(write, scratch)
  payload = {}
  begin
    error = load_solution(solution)
    payload["solution_error"] = error && load_failure(error)
    tests.eval
  rescue Exception => e # rubocop:disable Lint/RescueException
    payload["tests_error"] = unexpected(e)
  end
  payload["tests"] = class_tests.keys # those defined before an error too
  payload["solution_error"] &&= ["ERROR", payload["solution_error"]]
  finish_child(write, payload)
end

# -- the parent --------------------------------------------------------------------------

def death_message(status)
  if status.signaled?
    name = Signal.signame(status.termsig) || status.termsig.to_s
    hint = status.termsig == 9 ? " (out of memory?)" : ""
    "the test crashed: killed by SIG#{name}#{hint}"
  else
    "the test exited with status #{status.exitstatus} before finishing"
  end
end

def kill_group(pid)
  Process.kill(:KILL, -pid)
rescue SystemCallError
  nil
end

# Fork a child running the block; returns [:done, payload] | [:timeout] | [:died, message].
def in_child(timeout)
  read, write = IO.pipe
  $stdout.flush
  $stderr.flush
  pid = fork do
    read.close
    yield write
  end
  write.close
  begin
    Process.setpgid(pid, pid)
  rescue SystemCallError
    nil
  end
  outcome = supervise(pid, read, timeout)
  read.close
  outcome
end

def supervise(pid, read, timeout)
  deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
  buffer = +""
  loop do
    left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
    if left <= 0
      kill_group(pid)
      Process.wait(pid)
      return [:timeout]
    end
    next unless IO.select([read], nil, nil, left)

    chunk = read.read_nonblock(65_536, exception: false)
    if chunk.nil? # end of file: the child is gone
      _, status = Process.wait2(pid)
      return [:died, death_message(status)]
    end
    buffer << chunk unless chunk == :wait_readable
    line = buffer.lines.find { |text| text.start_with?("#{NONCE} ") && text.end_with?("\n") }
    next if line.nil?

    kill_group(pid)
    Process.wait(pid)
    begin
      return [:done, JSON.parse(line.delete_prefix("#{NONCE} "))]
    rescue JSON::ParserError
      return [:died, "the test sent an unreadable result"]
    end
  end
end

def clean_up_after_test(scratch)
  if SANDBOXED
    begin
      Process.kill(:KILL, -1)
    rescue SystemCallError
      nil
    end
  end
  (SANDBOXED ? [scratch, "/tmp"] : [scratch]).each do |dir|
    Dir.each_child(dir) do |entry|
      path = File.join(dir, entry)
      FileUtils.rm_rf(path) unless path == scratch
    end
  rescue SystemCallError
    nil
  end
end

def report_all(names, status, message)
  names.each do |name|
    emit({ "result" => name, "status" => status, "message" => short(message), "time" => 0.0 })
  end
end

# Whether the tests file defines classes (or specs), so that loading it finds its tests.
def defines_classes?(node)
  return false unless node.is_a?(RubyVM::AbstractSyntaxTree::Node)
  return true if node.type == :CLASS || node.children.include?(:describe)

  node.children.any? { |child| defines_classes?(child) }
end

# [found, error]: found is {"tests" => names, "solution_error" => [status, why] or nil}, the
# tests of the test classes, found by loading the files in a child.
def discover(scratch, solution, tests, timeout)
  outcome = in_child(timeout) { |write| discover_child(write, scratch, solution, tests) }
  if outcome[0] == :done
    found = outcome[1]
    return [found, nil] if found["tests"].empty? || found["tests_error"].nil?

    return [nil, "the test file raised while loading: #{found['tests_error']}"]
  end
  if solution.nil?
    return [nil, "loading the test file #{outcome[0] == :timeout ? 'timed out' : outcome[1]}"]
  end

  # The solution may be what broke the load: find the tests without it, then blame it.
  why = if outcome[0] == :timeout
          ["TIMEOUT", "loading the solution exceeded the #{format('%g', timeout)} s time limit"]
        else
          ["ERROR", "loading the solution failed: #{outcome[1]}"]
        end
  found, error = discover(scratch, nil, tests, timeout)
  return [nil, error] if found.nil?

  [found.merge("solution_error" => why), nil]
end

def main
  timeout = Float(ENV.fetch("ASSAY_TEST_TIMEOUT", "5"))
  only = ARGV.empty? ? nil : ARGV
  scratch = Dir.mktmpdir("assay-test-")
  solution_source = File.read(SOLUTION_PATH)
  tests_source = File.read(TESTS_PATH)
  begin
    tests = compile(tests_source, "tests.rb")
  rescue SyntaxError => e
    return emit({ "fatal" => short("the test file does not parse: #{relative(e.message)}") })
  end
  solution_error = nil # [status, message] of every test when the solution cannot load
  begin
    solution = compile(solution_source, "solution.rb")
  rescue SyntaxError => e
    solution = nil
    solution_error = ["ERROR", "the solution does not compile: #{relative(e.message)}"]
  end
  plans = {}
  if defines_classes?(RubyVM::AbstractSyntaxTree.parse(tests_source))
    preload_frameworks(tests_source)
    found, error = discover(scratch, solution, tests, timeout)
    return emit({ "fatal" => short(error) }) if found.nil?

    plans = found["tests"].to_h { |name| [name, :class] }
    solution_error ||= found["solution_error"] unless plans.empty?
  end
  # A file without test classes: each top-level statement that raises or asserts.
  plans = plain_tests(tests_source) if plans.empty?
  if plans.empty?
    return emit({ "fatal" => "no tests found: the test file has no Minitest::Test or " \
                             "Test::Unit::TestCase test methods and no top-level raise/assert" })
  end
  emit({ "collect" => plans.keys })
  if solution_error
    report_all(plans.keys, *solution_error)
    return emit({ "done" => true })
  end
  plans.each do |name, plan|
    next if only && !only.include?(name)

    emit({ "start" => name })
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    outcome = in_child(timeout) do |write|
      run_test_child(write, scratch, solution, tests, name, plan)
    end
    seconds = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).round(6)
    status, message = case outcome[0]
                      when :done then [outcome[1]["status"], outcome[1]["message"].to_s]
                      when :timeout
                        ["TIMEOUT", "test exceeded its #{format('%g', timeout)} s time limit"]
                      else ["ERROR", outcome[1]]
                      end
    emit({ "result" => name, "status" => status, "message" => short(message), "time" => seconds })
    clean_up_after_test(scratch)
  end
  emit({ "done" => true })
end

begin
  main
rescue Exception => e # rubocop:disable Lint/RescueException - a runner bug, said plainly
  emit({ "fatal" => short("the test runner failed: #{e.class}: #{e.message} " \
                          "(#{e.backtrace.to_a.first})") })
ensure
  $stdout.flush
  $stderr.flush
  # Nothing else may run after the tests (the at_exit hooks of test frameworks).
  exit!(0)
end
