"""The same small programs in every language, for the conformance suite."""

from __future__ import annotations

HELLO_OUTPUT = "hello world\n"
ECHO_INPUT = "line one\nline two\n"

# language -> case -> source. Cases: hello, echo, compile_error, runtime_error,
# nonzero_exit (exit code 3), infinite_loop.
BASIC: dict[str, dict[str, str]] = {
    "python": {
        "hello": 'print("hello world")\n',
        "echo": "import sys\nsys.stdout.write(sys.stdin.read())\n",
        "compile_error": "def broken(:\n    pass\n",
        "runtime_error": "print(1 // 0)\n",
        "nonzero_exit": "import sys\nsys.exit(3)\n",
        "infinite_loop": "while True:\n    pass\n",
    },
    "javascript": {
        "hello": 'console.log("hello world");\n',
        "echo": "process.stdout.write(require('fs').readFileSync(0, 'utf8'));\n",
        "compile_error": "function broken( {\n",
        "runtime_error": "null.property;\n",
        "nonzero_exit": "process.exit(3);\n",
        "infinite_loop": "for (;;) {}\n",
    },
    "typescript": {
        "hello": 'const greeting: string = "hello world";\nconsole.log(greeting);\n',
        "echo": "const text: string = require('fs').readFileSync(0, 'utf8');\n"
                "process.stdout.write(text);\n",
        "compile_error": 'const n: number = "not a number";\n',
        "runtime_error": 'throw new Error("boom");\n',
        "nonzero_exit": "process.exit(3);\n",
        "infinite_loop": "for (;;) {}\n",
    },
    "java": {
        "hello": 'public class Main {\n    public static void main(String[] args) {\n'
                 '        System.out.println("hello world");\n    }\n}\n',
        "echo": "import java.io.*;\npublic class Main {\n"
                "    public static void main(String[] args) throws IOException {\n"
                "        System.in.transferTo(System.out);\n    }\n}\n",
        "compile_error": "public class Main {\n    public static void main(String[] args) {\n"
                         "        int x = \"text\";\n    }\n}\n",
        "runtime_error": "public class Main {\n    public static void main(String[] args) {\n"
                         "        Object o = null;\n        o.toString();\n    }\n}\n",
        "nonzero_exit": "public class Main {\n    public static void main(String[] args) {\n"
                        "        System.exit(3);\n    }\n}\n",
        "infinite_loop": "public class Main {\n    public static void main(String[] args) {\n"
                         "        while (true) {}\n    }\n}\n",
    },
    "c": {
        "hello": '#include <stdio.h>\nint main(void) { puts("hello world"); return 0; }\n',
        "echo": "#include <stdio.h>\nint main(void) {\n    int c;\n"
                "    while ((c = getchar()) != EOF) putchar(c);\n    return 0;\n}\n",
        "compile_error": "int main(void) { return undefined_name; }\n",
        "runtime_error": "#include <stdlib.h>\nint main(void) { abort(); }\n",
        "nonzero_exit": "int main(void) { return 3; }\n",
        "infinite_loop": "int main(void) { volatile int x = 0; for (;;) x++; }\n",
    },
    "cpp": {
        "hello": '#include <iostream>\nint main() { std::cout << "hello world" << std::endl; }\n',
        "echo": "#include <iostream>\nint main() { std::cout << std::cin.rdbuf(); }\n",
        "compile_error": "int main() { std::string s; }\n",
        "runtime_error": '#include <stdexcept>\nint main() { throw std::runtime_error("boom"); }\n',
        "nonzero_exit": "int main() { return 3; }\n",
        "infinite_loop": "int main() { volatile int x = 0; for (;;) x++; }\n",
    },
    "go": {
        "hello": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello world") }\n',
        "echo": 'package main\n\nimport (\n\t"io"\n\t"os"\n)\n\n'
                "func main() { io.Copy(os.Stdout, os.Stdin) }\n",
        "compile_error": "package main\n\nfunc main() { undefinedName() }\n",
        "runtime_error": 'package main\n\nfunc main() { panic("boom") }\n',
        "nonzero_exit": 'package main\n\nimport "os"\n\nfunc main() { os.Exit(3) }\n',
        "infinite_loop": "package main\n\nfunc main() {\n\tx := 0\n\tfor {\n\t\tx++\n\t}\n}\n",
    },
    "rust": {
        "hello": 'fn main() {\n    println!("hello world");\n}\n',
        "echo": "use std::io::{self, Read, Write};\nfn main() {\n    let mut s = String::new();\n"
                "    io::stdin().read_to_string(&mut s).unwrap();\n"
                "    io::stdout().write_all(s.as_bytes()).unwrap();\n}\n",
        "compile_error": "fn main() {\n    let x: i32 = \"text\";\n}\n",
        "runtime_error": 'fn main() {\n    panic!("boom");\n}\n',
        "nonzero_exit": "fn main() {\n    std::process::exit(3);\n}\n",
        "infinite_loop": "fn main() {\n    let mut x: u64 = 0;\n    loop {\n"
                         "        x = std::hint::black_box(x + 1);\n    }\n}\n",
    },
    "ruby": {
        "hello": 'puts "hello world"\n',
        "echo": "print $stdin.read\n",
        "compile_error": "def broken(\n",
        "runtime_error": "1 / 0\n",
        "nonzero_exit": "exit 3\n",
        "infinite_loop": "loop {}\n",
    },
    "php": {
        "hello": '<?php\necho "hello world\\n";\n',
        "echo": "<?php\necho stream_get_contents(STDIN);\n",
        "compile_error": "<?php\nfunction broken( {\n",
        "runtime_error": '<?php\nthrow new Exception("boom");\n',
        "nonzero_exit": "<?php\nexit(3);\n",
        "infinite_loop": "<?php\nwhile (true) {}\n",
    },
    "bash": {
        "hello": 'echo "hello world"\n',
        "echo": "cat\n",
        "compile_error": "if then fi (\n",
        "runtime_error": "set -e\nfalse\necho unreachable\n",
        "nonzero_exit": "exit 3\n",
        "infinite_loop": "while :; do :; done\n",
    },
}

# language -> a program that keeps allocating and touching memory until it is stopped.
MEMORY_HOG: dict[str, str] = {
    "python": "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n",
    "javascript": "const chunks = [];\nfor (;;) chunks.push(Buffer.alloc(16 * 1024 * 1024, 1));\n",
    "java": "import java.util.*;\npublic class Main {\n"
            "    public static void main(String[] args) {\n"
            "        List<long[]> chunks = new ArrayList<>();\n"
            "        while (true) chunks.add(new long[2 * 1024 * 1024]);\n    }\n}\n",
    "go": "package main\n\nvar chunks [][]byte\n\nfunc main() {\n\tfor {\n"
          "\t\tb := make([]byte, 16<<20)\n\t\tfor i := range b {\n\t\t\tb[i] = 1\n\t\t}\n"
          "\t\tchunks = append(chunks, b)\n\t}\n}\n",
    "c": "#include <stdlib.h>\n#include <string.h>\nint main(void) {\n    for (;;) {\n"
         "        char *p = malloc(16 << 20);\n        if (!p) return 1;\n"
         "        memset(p, 1, 16 << 20);\n    }\n}\n",
    "cpp": "#include <vector>\nint main() {\n    std::vector<std::vector<char>> chunks;\n"
           "    for (;;) chunks.emplace_back(16 << 20, 1);\n}\n",
    "rust": "fn main() {\n    let mut chunks: Vec<Vec<u8>> = Vec::new();\n"
            "    loop {\n        chunks.push(vec![1u8; 16 << 20]);\n    }\n}\n",
}
