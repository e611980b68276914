<?php
// Run a PHP program after checking its syntax. A parse error goes to the status fd
// (ASSAY_STATUS_FD) so the sandbox reports COMPILE_ERROR. PHP cannot close a raw fd, so the
// program could still write there: at worst it turns its own result into a COMPILE_ERROR.
$__assay_fd = getenv('ASSAY_STATUS_FD');
putenv('ASSAY_STATUS_FD');
unset($_ENV['ASSAY_STATUS_FD'], $_SERVER['ASSAY_STATUS_FD']);
$__assay_path = $argv[1];
try {
    token_get_all(file_get_contents($__assay_path), TOKEN_PARSE);
} catch (ParseError $e) {
    $__assay_msg = "PHP Parse error: " . $e->getMessage() . " in " . $__assay_path
        . " on line " . $e->getLine() . "\n";
    if ($__assay_fd !== false) {
        $__assay_h = fopen("php://fd/" . $__assay_fd, "w");
        fwrite($__assay_h, $__assay_msg);
        fclose($__assay_h);
    }
    fwrite(STDERR, $__assay_msg);
    exit(1);
}
array_shift($argv);
$argc = count($argv);
$_SERVER['argv'] = $argv;
$_SERVER['argc'] = $argc;
unset($__assay_fd, $__assay_path);
require $argv[0];
