"""Compiled-language verification throughput: first run, cache-warm rerun, one compile per test.

A corpus built here (nothing downloaded): 12 small problems (sum of digits, is_prime, gcd,
reverse words, running max, ...), each with a ``unit`` suite of 6 tests in the language's
own style (C++ ``void test_*()`` functions with ``assert``, Java JUnit ``@Test`` methods, Go
``func TestX(t *testing.T)``, Rust ``#[test]`` functions) and 3 solutions: a correct one, a
wrong one (fails some tests), and one that crashes on every call (even problems) or does not
compile (odd problems). Per language, three verifications with ``assay.verify``, each in a
fresh Python process (as a new ``assay verify`` would be) with a fresh run store:

* **first run**: an empty cache root (compile cache, Go build cache, Java runner jar); one
  compile per (solution, suite);
* **rerun**: the same cache root, warm; only compiles are saved (the run store is new); a
  compile that failed is not cached, so it runs again (``--no-compile-errors`` leaves those
  solutions out: every third solution then crashes);
* **baseline, one compile per test**: every test of every solution verified as a suite of
  its own, with an empty compile cache: what a harness that builds one program per test
  costs.

Prints seconds and solutions/s of each, the ratios first / rerun and per-test /
per-solution, the compiles each one ran (compile-cache misses, failed compiles included),
and checks that the three agree on every test's status.

    python benchmarks/compiled_throughput.py                        # cpp and java
    python benchmarks/compiled_throughput.py --lang java --no-compile-errors
    python benchmarks/compiled_throughput.py --lang cpp --lang go --lang rust --json out.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGUAGES = ("cpp", "java", "go", "rust")
TIMEOUT_S = 5.0

# -- the corpus, language-neutral ------------------------------------------------------------

Value = int | bool | str | list[int]


@dataclass(frozen=True)
class Spec:
    """One problem: the function's signature, its tests, and hand-written solutions.

    Attributes:
        name: The function's name in snake_case (each language spells it its own way).
        params: The parameters' types: "int", "long", "bool", "str" or "ints".
        returns: The return type, same names.
        cases: (arguments, expected value) of each test.
        solutions: language -> (correct, wrong) source of the function.
    """

    name: str
    params: tuple[str, ...]
    returns: str
    cases: tuple[tuple[tuple[Value, ...], Value], ...]
    solutions: dict[str, tuple[str, str]] = field(default_factory=dict)


SPECS = [
    Spec("sum_digits", ("int",), "int",
         (((0,), 0), ((7,), 7), ((123,), 6), ((9999,), 36), ((1000,), 1), ((505,), 10)), {
        "cpp": ("""int sum_digits(int n) {
    int total = 0;
    while (n > 0) { total += n % 10; n /= 10; }
    return total;
}""", """int sum_digits(int n) {
    int total = 0;
    while (n > 9) { total += n % 10; n /= 10; }
    return total;
}"""),
        "java": ("""public static int sumDigits(int n) {
    int total = 0;
    while (n > 0) { total += n % 10; n /= 10; }
    return total;
}""", """public static int sumDigits(int n) {
    int total = 0;
    while (n > 9) { total += n % 10; n /= 10; }
    return total;
}"""),
        "go": ("""func SumDigits(n int) int {
	total := 0
	for n > 0 {
		total += n % 10
		n /= 10
	}
	return total
}""", """func SumDigits(n int) int {
	total := 0
	for n > 9 {
		total += n % 10
		n /= 10
	}
	return total
}"""),
        "rust": ("""fn sum_digits(mut n: i32) -> i32 {
    let mut total = 0;
    while n > 0 { total += n % 10; n /= 10; }
    return total;
}""", """fn sum_digits(mut n: i32) -> i32 {
    let mut total = 0;
    while n > 9 { total += n % 10; n /= 10; }
    return total;
}"""),
    }),
    Spec("is_prime", ("int",), "bool",
         (((0,), False), ((1,), False), ((2,), True), ((17,), True), ((21,), False),
          ((97,), True)), {
        "cpp": ("""bool is_prime(int n) {
    if (n < 2) return false;
    for (int d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}""", """bool is_prime(int n) {
    for (int d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}"""),
        "java": ("""public static boolean isPrime(int n) {
    if (n < 2) return false;
    for (int d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}""", """public static boolean isPrime(int n) {
    for (int d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}"""),
        "go": ("""func IsPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}""", """func IsPrime(n int) bool {
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}"""),
        "rust": ("""fn is_prime(n: i32) -> bool {
    if n < 2 { return false; }
    let mut d = 2;
    while d * d <= n { if n % d == 0 { return false; } d += 1; }
    return true;
}""", """fn is_prime(n: i32) -> bool {
    let mut d = 2;
    while d * d <= n { if n % d == 0 { return false; } d += 1; }
    return true;
}"""),
    }),
    # The wrong gcd divides by zero when b is 0: an error in Java, Go and Rust. In C++ that
    # is undefined behaviour, which -O2 may fold into anything, so there it checks first.
    Spec("gcd", ("int", "int"), "int",
         (((12, 18), 6), ((7, 5), 1), ((0, 9), 9), ((9, 0), 9), ((100, 75), 25),
          ((14, 7), 7)), {
        "cpp": ("""int gcd(int a, int b) {
    while (b != 0) { int t = a % b; a = b; b = t; }
    return a;
}""", """int gcd(int a, int b) {
    return b != 0 && a % b == 0 ? b : 1;
}"""),
        "java": ("""public static int gcd(int a, int b) {
    while (b != 0) { int t = a % b; a = b; b = t; }
    return a;
}""", """public static int gcd(int a, int b) {
    return a % b == 0 ? b : 1;
}"""),
        "go": ("""func Gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}""", """func Gcd(a, b int) int {
	if a%b == 0 {
		return b
	}
	return 1
}"""),
        "rust": ("""fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 { let t = a % b; a = b; b = t; }
    return a;
}""", """fn gcd(a: i32, b: i32) -> i32 {
    return if a % b == 0 { b } else { 1 };
}"""),
    }),
    Spec("reverse_words", ("str",), "str",
         ((("hello world",), "world hello"), (("a",), "a"), (("",), ""),
          (("one two three",), "three two one"), (("abc",), "abc"), (("x y",), "y x")), {
        "cpp": ("""std::string reverse_words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> words;
    std::string word;
    while (in >> word) words.push_back(word);
    std::string out;
    for (auto it = words.rbegin(); it != words.rend(); ++it) {
        if (!out.empty()) out += ' ';
        out += *it;
    }
    return out;
}""", """std::string reverse_words(const std::string& s) {
    return std::string(s.rbegin(), s.rend());
}"""),
        "java": (r"""public static String reverseWords(String s) {
    String[] words = s.trim().split("\\s+");
    StringBuilder out = new StringBuilder();
    for (int i = words.length - 1; i >= 0; i--) {
        if (words[i].isEmpty()) continue;
        if (out.length() > 0) out.append(' ');
        out.append(words[i]);
    }
    return out.toString();
}""", """public static String reverseWords(String s) {
    return new StringBuilder(s).reverse().toString();
}"""),
        "go": ("""import "strings"

func ReverseWords(s string) string {
	words := strings.Fields(s)
	for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
		words[i], words[j] = words[j], words[i]
	}
	return strings.Join(words, " ")
}""", """func ReverseWords(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}"""),
        "rust": ("""fn reverse_words(s: &str) -> String {
    return s.split_whitespace().rev().collect::<Vec<_>>().join(" ");
}""", """fn reverse_words(s: &str) -> String {
    return s.chars().rev().collect();
}"""),
    }),
    Spec("running_max", ("ints",), "ints",
         ((([1, 3, 2, 5, 4],), [1, 3, 3, 5, 5]), (([],), []), (([-3, -1, -2],), [-3, -1, -1]),
          (([7],), [7]), (([5, 4, 3],), [5, 5, 5]), (([-5, -6],), [-5, -5])), {
        "cpp": ("""std::vector<int> running_max(const std::vector<int>& xs) {
    std::vector<int> out;
    for (int x : xs) out.push_back(out.empty() ? x : std::max(out.back(), x));
    return out;
}""", """std::vector<int> running_max(const std::vector<int>& xs) {
    std::vector<int> out;
    int best = 0;
    for (int x : xs) { best = std::max(best, x); out.push_back(best); }
    return out;
}"""),
        "java": ("""public static int[] runningMax(int[] xs) {
    int[] out = new int[xs.length];
    for (int i = 0; i < xs.length; i++) out[i] = i == 0 ? xs[0] : Math.max(out[i - 1], xs[i]);
    return out;
}""", """public static int[] runningMax(int[] xs) {
    int[] out = new int[xs.length];
    int best = 0;
    for (int i = 0; i < xs.length; i++) { best = Math.max(best, xs[i]); out[i] = best; }
    return out;
}"""),
        "go": ("""func RunningMax(xs []int) []int {
	out := make([]int, 0, len(xs))
	for i, x := range xs {
		if i > 0 && out[i-1] > x {
			x = out[i-1]
		}
		out = append(out, x)
	}
	return out
}""", """func RunningMax(xs []int) []int {
	out := make([]int, 0, len(xs))
	best := 0
	for _, x := range xs {
		if x > best {
			best = x
		}
		out = append(out, best)
	}
	return out
}"""),
        "rust": ("""fn running_max(xs: &[i32]) -> Vec<i32> {
    let mut out: Vec<i32> = Vec::new();
    for &x in xs { let m = match out.last() { Some(&p) if p > x => p, _ => x }; out.push(m); }
    return out;
}""", """fn running_max(xs: &[i32]) -> Vec<i32> {
    let mut out = Vec::new();
    let mut best = 0;
    for &x in xs { best = best.max(x); out.push(best); }
    return out;
}"""),
    }),
    Spec("count_vowels", ("str",), "int",
         ((("hello",), 2), (("",), 0), (("AEIOU",), 5), (("rhythm",), 0),
          (("Programming",), 3), (("queue",), 4)), {
        "cpp": ("""int count_vowels(const std::string& s) {
    int n = 0;
    for (char c : s)
        if (std::string("aeiou").find(std::tolower(static_cast<unsigned char>(c)))
                != std::string::npos) ++n;
    return n;
}""", """int count_vowels(const std::string& s) {
    int n = 0;
    for (char c : s)
        if (std::string("aeiou").find(c) != std::string::npos) ++n;
    return n;
}"""),
        "java": ("""public static int countVowels(String s) {
    int n = 0;
    for (char c : s.toLowerCase().toCharArray()) if ("aeiou".indexOf(c) >= 0) n++;
    return n;
}""", """public static int countVowels(String s) {
    int n = 0;
    for (char c : s.toCharArray()) if ("aeiou".indexOf(c) >= 0) n++;
    return n;
}"""),
        "go": ("""import "strings"

func CountVowels(s string) int {
	n := 0
	for _, c := range strings.ToLower(s) {
		if strings.ContainsRune("aeiou", c) {
			n++
		}
	}
	return n
}""", """import "strings"

func CountVowels(s string) int {
	n := 0
	for _, c := range s {
		if strings.ContainsRune("aeiou", c) {
			n++
		}
	}
	return n
}"""),
        "rust": ("""fn count_vowels(s: &str) -> i32 {
    return s.to_lowercase().chars().filter(|c| "aeiou".contains(*c)).count() as i32;
}""", """fn count_vowels(s: &str) -> i32 {
    return s.chars().filter(|c| "aeiou".contains(*c)).count() as i32;
}"""),
    }),
    Spec("fibonacci", ("int",), "long",
         (((0,), 0), ((1,), 1), ((2,), 1), ((10,), 55), ((50,), 12586269025),
          ((90,), 2880067194370816120)), {
        "cpp": ("""long long fibonacci(int n) {
    long long a = 0, b = 1;
    for (int i = 0; i < n; ++i) { long long t = a + b; a = b; b = t; }
    return a;
}""", """long long fibonacci(int n) {
    long long a = 0, b = 1;
    for (int i = 0; i < n - 1; ++i) { long long t = a + b; a = b; b = t; }
    return a;
}"""),
        "java": ("""public static long fibonacci(int n) {
    long a = 0, b = 1;
    for (int i = 0; i < n; ++i) { long t = a + b; a = b; b = t; }
    return a;
}""", """public static long fibonacci(int n) {
    long a = 0, b = 1;
    for (int i = 0; i < n - 1; ++i) { long t = a + b; a = b; b = t; }
    return a;
}"""),
        "go": ("""func Fibonacci(n int) int64 {
	var a, b int64 = 0, 1
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return a
}""", """func Fibonacci(n int) int64 {
	var a, b int64 = 0, 1
	for i := 0; i < n-1; i++ {
		a, b = b, a+b
	}
	return a
}"""),
        "rust": ("""fn fibonacci(n: i32) -> i64 {
    let (mut a, mut b) = (0i64, 1i64);
    for _ in 0..n { let t = a + b; a = b; b = t; }
    return a;
}""", """fn fibonacci(n: i32) -> i64 {
    let (mut a, mut b) = (0i64, 1i64);
    for _ in 0..n - 1 { let t = a + b; a = b; b = t; }
    return a;
}"""),
    }),
    Spec("is_palindrome", ("str",), "bool",
         ((("",), True), (("a",), True), (("abba",), True), (("Racecar",), True),
          (("abc",), False), (("Ab",), False)), {
        "cpp": ("""bool is_palindrome(const std::string& s) {
    for (size_t i = 0, j = s.size(); i + 1 < j; ++i, --j)
        if (std::tolower(static_cast<unsigned char>(s[i]))
                != std::tolower(static_cast<unsigned char>(s[j - 1]))) return false;
    return true;
}""", """bool is_palindrome(const std::string& s) {
    return std::string(s.rbegin(), s.rend()) == s;
}"""),
        "java": ("""public static boolean isPalindrome(String s) {
    String lower = s.toLowerCase();
    return new StringBuilder(lower).reverse().toString().equals(lower);
}""", """public static boolean isPalindrome(String s) {
    return new StringBuilder(s).reverse().toString().equals(s);
}"""),
        "go": ("""import "strings"

func IsPalindrome(s string) bool {
	r := []rune(strings.ToLower(s))
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		if r[i] != r[j] {
			return false
		}
	}
	return true
}""", """func IsPalindrome(s string) bool {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		if r[i] != r[j] {
			return false
		}
	}
	return true
}"""),
        "rust": ("""fn is_palindrome(s: &str) -> bool {
    let lower = s.to_lowercase();
    return lower.chars().rev().collect::<String>() == lower;
}""", """fn is_palindrome(s: &str) -> bool {
    return s.chars().rev().collect::<String>() == s;
}"""),
    }),
    Spec("max_subarray", ("ints",), "int",
         ((([1, -2, 3, 4, -1],), 7), (([-3, -1, -2],), -1), (([5],), 5), (([2, 2, 2],), 6),
          (([-2, 1, -3, 4, -1, 2, 1, -5, 4],), 6), (([-7],), -7)), {
        "cpp": ("""int max_subarray(const std::vector<int>& xs) {
    int best = xs[0], current = 0;
    for (int x : xs) { current = std::max(x, current + x); best = std::max(best, current); }
    return best;
}""", """int max_subarray(const std::vector<int>& xs) {
    int best = 0, current = 0;
    for (int x : xs) { current = std::max(0, current + x); best = std::max(best, current); }
    return best;
}"""),
        "java": ("""public static int maxSubarray(int[] xs) {
    int best = xs[0], current = 0;
    for (int x : xs) { current = Math.max(x, current + x); best = Math.max(best, current); }
    return best;
}""", """public static int maxSubarray(int[] xs) {
    int best = 0, current = 0;
    for (int x : xs) { current = Math.max(0, current + x); best = Math.max(best, current); }
    return best;
}"""),
        "go": ("""func MaxSubarray(xs []int) int {
	best, current := xs[0], 0
	for _, x := range xs {
		if current+x > x {
			current += x
		} else {
			current = x
		}
		if current > best {
			best = current
		}
	}
	return best
}""", """func MaxSubarray(xs []int) int {
	best, current := 0, 0
	for _, x := range xs {
		current += x
		if current < 0 {
			current = 0
		}
		if current > best {
			best = current
		}
	}
	return best
}"""),
        "rust": ("""fn max_subarray(xs: &[i32]) -> i32 {
    let (mut best, mut current) = (xs[0], 0);
    for &x in xs { current = x.max(current + x); best = best.max(current); }
    return best;
}""", """fn max_subarray(xs: &[i32]) -> i32 {
    let (mut best, mut current) = (0, 0);
    for &x in xs { current = 0.max(current + x); best = best.max(current); }
    return best;
}"""),
    }),
    Spec("count_bits", ("int",), "int",
         (((0,), 0), ((1,), 1), ((7,), 3), ((8,), 1), ((255,), 8), ((1023,), 10)), {
        "cpp": ("""int count_bits(int n) {
    int bits = 0;
    while (n > 0) { bits += n & 1; n >>= 1; }
    return bits;
}""", """int count_bits(int n) {
    int bits = 0;
    while (n > 1) { bits += n & 1; n >>= 1; }
    return bits;
}"""),
        "java": ("""public static int countBits(int n) {
    int bits = 0;
    while (n > 0) { bits += n & 1; n >>= 1; }
    return bits;
}""", """public static int countBits(int n) {
    int bits = 0;
    while (n > 1) { bits += n & 1; n >>= 1; }
    return bits;
}"""),
        "go": ("""func CountBits(n int) int {
	bits := 0
	for n > 0 {
		bits += n & 1
		n >>= 1
	}
	return bits
}""", """func CountBits(n int) int {
	bits := 0
	for n > 1 {
		bits += n & 1
		n >>= 1
	}
	return bits
}"""),
        "rust": ("""fn count_bits(mut n: i32) -> i32 {
    let mut bits = 0;
    while n > 0 { bits += n & 1; n >>= 1; }
    return bits;
}""", """fn count_bits(mut n: i32) -> i32 {
    let mut bits = 0;
    while n > 1 { bits += n & 1; n >>= 1; }
    return bits;
}"""),
    }),
    Spec("second_largest", ("ints",), "int",
         ((([1, 2, 3],), 2), (([5, 5, 4],), 4), (([10, 20],), 10), (([3, 3, 3, 1],), 1),
          (([-1, -2, -3],), -2), (([7, 9, 9, 8],), 8)), {
        "cpp": ("""int second_largest(const std::vector<int>& xs) {
    std::vector<int> values(xs);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values[values.size() - 2];
}""", """int second_largest(const std::vector<int>& xs) {
    std::vector<int> values(xs);
    std::sort(values.begin(), values.end());
    return values[values.size() - 2];
}"""),
        "java": ("""public static int secondLargest(int[] xs) {
    int[] values = java.util.Arrays.stream(xs).distinct().sorted().toArray();
    return values[values.length - 2];
}""", """public static int secondLargest(int[] xs) {
    int[] values = xs.clone();
    java.util.Arrays.sort(values);
    return values[values.length - 2];
}"""),
        "go": ("""import "sort"

func SecondLargest(xs []int) int {
	values := append([]int(nil), xs...)
	sort.Ints(values)
	distinct := values[:0]
	for i, v := range values {
		if i == 0 || v != values[i-1] {
			distinct = append(distinct, v)
		}
	}
	return distinct[len(distinct)-2]
}""", """import "sort"

func SecondLargest(xs []int) int {
	values := append([]int(nil), xs...)
	sort.Ints(values)
	return values[len(values)-2]
}"""),
        "rust": ("""fn second_largest(xs: &[i32]) -> i32 {
    let mut values = xs.to_vec();
    values.sort();
    values.dedup();
    return values[values.len() - 2];
}""", """fn second_largest(xs: &[i32]) -> i32 {
    let mut values = xs.to_vec();
    values.sort();
    return values[values.len() - 2];
}"""),
    }),
    Spec("factorial", ("int",), "long",
         (((0,), 1), ((1,), 1), ((2,), 2), ((5,), 120), ((10,), 3628800),
          ((20,), 2432902008176640000)), {
        "cpp": ("""long long factorial(int n) {
    long long product = 1;
    for (int i = 2; i <= n; ++i) product *= i;
    return product;
}""", """long long factorial(int n) {
    long long product = 1;
    for (int i = 2; i < n; ++i) product *= i;
    return product;
}"""),
        "java": ("""public static long factorial(int n) {
    long product = 1;
    for (int i = 2; i <= n; ++i) product *= i;
    return product;
}""", """public static long factorial(int n) {
    long product = 1;
    for (int i = 2; i < n; ++i) product *= i;
    return product;
}"""),
        "go": ("""func Factorial(n int) int64 {
	var product int64 = 1
	for i := 2; i <= n; i++ {
		product *= int64(i)
	}
	return product
}""", """func Factorial(n int) int64 {
	var product int64 = 1
	for i := 2; i < n; i++ {
		product *= int64(i)
	}
	return product
}"""),
        "rust": ("""fn factorial(n: i32) -> i64 {
    let mut product = 1i64;
    for i in 2..=n as i64 { product *= i; }
    return product;
}""", """fn factorial(n: i32) -> i64 {
    let mut product = 1i64;
    for i in 2..n as i64 { product *= i; }
    return product;
}"""),
    }),
]


# -- how each language spells a solution and its tests ------------------------------------


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def pascal(name: str) -> str:
    return "".join(word.title() for word in name.split("_"))


class Style(ABC):
    """How one language writes the corpus: solutions, one test, a test file."""

    language: str
    # A statement put first in a function body that crashes the call.
    crash: str

    @abstractmethod
    def solution(self, function: str) -> str:
        """The solution's source file around one function."""

    @abstractmethod
    def test_name(self, index: int) -> str:
        """The name the harness reports for the index-th test."""

    @abstractmethod
    def test_file(self, spec: Spec, indices: list[int]) -> str:
        """A test file with the tests of these indices."""

    # How the language writes a list of ints ({} is the comma-separated items), a string,
    # and the suffix of a 64-bit integer literal.
    ints_format: str
    long_suffix = ""

    def string(self, text: str) -> str:
        return json.dumps(text)

    def ints(self, items: list[int]) -> str:
        return self.ints_format.format(", ".join(map(str, items)))

    def value(self, value: Value, kind: str) -> str:
        """A literal of the value, as an expected value."""
        if kind == "ints":
            assert isinstance(value, list)
            return self.ints(value)
        if kind == "str":
            assert isinstance(value, str)
            return self.string(value)
        if kind == "bool":
            return "true" if value else "false"
        return f"{value}{self.long_suffix}" if kind == "long" else str(value)

    def argument(self, value: Value, kind: str) -> str:
        return self.value(value, kind)

    def call(self, function: str, spec: Spec, args: tuple[Value, ...]) -> str:
        values = (self.argument(a, kind) for a, kind in zip(args, spec.params, strict=True))
        return f"{function}({', '.join(values)})"


class CppStyle(Style):
    language = "cpp"
    crash = "volatile int* volatile nowhere = nullptr; *nowhere = 1;"

    def solution(self, function: str) -> str:
        headers = ("algorithm", "cctype", "sstream", "string", "vector")
        return "".join(f"#include <{h}>\n" for h in headers) + "\n" + function + "\n"

    def test_name(self, index: int) -> str:
        return f"test_{index}"

    ints_format = "std::vector<int>{{{}}}"
    long_suffix = "LL"

    def string(self, text: str) -> str:
        return f"std::string({json.dumps(text)})"

    def test_file(self, spec: Spec, indices: list[int]) -> str:
        lines = ["#include <cassert>", "#include <string>", "#include <vector>", ""]
        for index in indices:
            args, expected = spec.cases[index]
            call = self.call(spec.name, spec, args)
            lines.append(f"void test_{index}() {{ assert(({call} == "
                         f"{self.value(expected, spec.returns)})); }}")
        return "\n".join(lines) + "\n"


class JavaStyle(Style):
    language = "java"
    crash = "int[] none = new int[0]; none[0] = 1;"

    def solution(self, function: str) -> str:
        body = "\n".join("    " + line if line else "" for line in function.splitlines())
        return f"public class Solution {{\n{body}\n}}\n"

    def test_name(self, index: int) -> str:
        return f"SolutionTest.test{index}"

    ints_format = "new int[] {{{}}}"
    long_suffix = "L"

    def test_file(self, spec: Spec, indices: list[int]) -> str:
        lines = ["import org.junit.Test;", "import static org.junit.Assert.*;", "",
                 "public class SolutionTest {"]
        for index in indices:
            args, expected = spec.cases[index]
            call = self.call(f"Solution.{camel(spec.name)}", spec, args)
            check = "assertArrayEquals" if spec.returns == "ints" else "assertEquals"
            lines += ["    @Test", f"    public void test{index}() {{",
                      f"        {check}({self.value(expected, spec.returns)}, {call});", "    }"]
        return "\n".join([*lines, "}"]) + "\n"


class GoStyle(Style):
    language = "go"
    crash = "var nowhere *int; *nowhere = 1"

    def solution(self, function: str) -> str:
        return f"package main\n\n{function}\n"

    def test_name(self, index: int) -> str:
        return f"Test{index}"

    ints_format = "[]int{{{}}}"

    def test_file(self, spec: Spec, indices: list[int]) -> str:
        imports = ['"reflect"', '"testing"'] if spec.returns == "ints" else ['"testing"']
        lines = ["package main", "", "import (", *(f"\t{i}" for i in imports), ")", ""]
        for index in indices:
            args, expected = spec.cases[index]
            call = self.call(pascal(spec.name), spec, args)
            want = self.value(expected, spec.returns)
            differs = (f"!reflect.DeepEqual(got, {want})" if spec.returns == "ints"
                       else f"got != {want}")
            lines += [f"func Test{index}(t *testing.T) {{",
                      f"\tif got := {call}; {differs} {{",
                      f'\t\tt.Errorf("got %v, want %v", got, {want})', "\t}", "}", ""]
        return "\n".join(lines)


class RustStyle(Style):
    language = "rust"
    crash = "let none: Vec<i32> = Vec::new(); let _ = none[0];"

    def solution(self, function: str) -> str:
        return function + "\n"

    def test_name(self, index: int) -> str:
        return f"tests::test_{index}"

    def argument(self, value: Value, kind: str) -> str:
        if kind == "ints":  # the functions take slices
            assert isinstance(value, list)
            return "&[" + ", ".join(map(str, value)) + "]"
        return self.value(value, kind)

    ints_format = "vec![{}]"

    def ints(self, items: list[int]) -> str:
        return super().ints(items) if items else "Vec::<i32>::new()"  # vec![] has no type

    def test_file(self, spec: Spec, indices: list[int]) -> str:
        lines = ["#[cfg(test)]", "mod tests {", "    use super::*;", ""]
        for index in indices:
            args, expected = spec.cases[index]
            call = self.call(spec.name, spec, args)
            lines += ["    #[test]", f"    fn test_{index}() {{",
                      f"        assert_eq!({call}, {self.value(expected, spec.returns)});",
                      "    }", ""]
        return "\n".join([*lines, "}"]) + "\n"


STYLES: dict[str, Style] = {s.language: s for s in (CppStyle(), JavaStyle(), GoStyle(),
                                                      RustStyle())}


def third_solution(style: Style, correct: str, index: int, compile_errors: bool
                   ) -> tuple[str, str]:
    """(kind, function) of the third solution: a crash on every call for even problems, a
    typo that does not compile for odd ones (crashes too without ``compile_errors``)."""
    if index % 2 == 0 or not compile_errors:
        brace = correct.index("{", correct.index("("))  # the function body's brace
        return "crash", correct[:brace + 1] + f"\n    {style.crash}" + correct[brace + 1:]
    return "no_compile", correct.replace("return ", "retrun ", 1)


# -- records on disk ---------------------------------------------------------------------------


@dataclass
class Corpus:
    """The files of one language's verification, as the three measurements read them."""

    problems: Path
    solutions: Path
    per_test_problems: Path
    per_test_solutions: Path
    solution_count: int
    test_count: int
    per_test: dict[str, tuple[str, str]]  # per-test solution id -> (solution id, test name)


def build_corpus(language: str, work: Path, problem_count: int, compile_errors: bool = True
                 ) -> Corpus:
    from assay.data import Problem, Solution, TestSuite, write_records

    style = STYLES[language]
    problems, solutions, one_test_problems, one_test_solutions = [], [], [], []
    per_test: dict[str, tuple[str, str]] = {}
    for index, spec in enumerate(SPECS[:problem_count]):
        correct, wrong = spec.solutions[language]
        kind, third = third_solution(style, correct, index, compile_errors)
        variants = {"correct": correct, "wrong": wrong, kind: third}
        every = list(range(len(spec.cases)))
        problem = Problem(id=spec.name, language=language, entry_point=spec.name,
                          tests=TestSuite(kind="unit", code=style.test_file(spec, every),
                                          timeout_s=TIMEOUT_S))
        problems.append(problem)
        for variant, function in variants.items():
            solution_id = f"{spec.name}/{variant}"
            code = style.solution(function)
            solutions.append(Solution(id=solution_id, problem_id=problem.id, code=code))
            for case in every:
                one_id = f"{spec.name}/{case}"
                if variant == "correct":
                    one_test_problems.append(problem.model_copy(update={
                        "id": one_id, "tests": TestSuite(kind="unit", timeout_s=TIMEOUT_S,
                                                         code=style.test_file(spec, [case]))}))
                one_solution = f"{solution_id}/{case}"
                one_test_solutions.append(Solution(id=one_solution, problem_id=one_id,
                                                   code=code))
                per_test[one_solution] = (solution_id, style.test_name(case))
    corpus = Corpus(work / "problems.jsonl", work / "solutions.jsonl",
                    work / "per-test-problems.jsonl", work / "per-test-solutions.jsonl",
                    len(solutions), sum(len(s.cases) for s in SPECS[:problem_count]) * 3,
                    per_test)
    write_records(corpus.problems, problems)
    write_records(corpus.solutions, solutions)
    write_records(corpus.per_test_problems, one_test_problems)
    write_records(corpus.per_test_solutions, one_test_solutions)
    return corpus


# -- one measurement, in a fresh process -----------------------------------------------------


@dataclass
class Phase:
    seconds: float
    statuses: dict[str, str]  # "solution id :: test name" -> status
    compiles: int  # compile steps that ran (cache misses, failed compiles included)
    cache_hits: int
    runs: int


def run_phase(problems: str, solutions: str, work: str, cache: str, workers: int | None
              ) -> dict[str, Any]:
    """One ``verify`` with a fresh run store, timed from its call to its return; the fields
    of a Phase (a dict: it crosses the process boundary)."""
    # Everything kept between runs lives under the cache root: the compile cache, Go's
    # build cache, the Java runner's jar. A first run starts with all of them empty.
    os.environ["ASSAY_CACHE_DIR"] = cache
    from assay.data import SolutionReport, read_records
    from assay.engine import RunStore
    from assay.sandbox import CompileCache, RunResult, RunSpec, get_sandbox
    from assay.verify import VerifyConfig, verify

    counts: Counter[str] = Counter()
    with get_sandbox("bwrap", cache=CompileCache(Path(cache))) as sandbox, \
            RunStore(Path(work) / "store.sqlite") as store:
        run = sandbox.run

        def counted(spec: RunSpec) -> RunResult:
            result = run(spec)
            counts["runs"] += 1
            if result.compile is not None:
                counts["hits" if result.compile.cached else "compiles"] += 1
            return result

        sandbox.run = counted  # type: ignore[method-assign]  # count what verify runs
        started = time.perf_counter()
        verify(problems, solutions, Path(work) / "reports.jsonl", store, sandbox,
               VerifyConfig(workers=workers))
        seconds = time.perf_counter() - started
    statuses = {f"{report.solution_id} :: {outcome.name}": outcome.status.value
                for report in read_records(Path(work) / "reports.jsonl", SolutionReport)
                for outcome in report.outcomes}
    return {"seconds": seconds, "statuses": statuses, "compiles": counts["compiles"],
            "cache_hits": counts["hits"], "runs": counts["runs"]}


def in_fresh_process(function: Callable[..., dict[str, Any]], *args: Any) -> Phase:
    """Run a measurement in a new interpreter, so that it pays what a new ``assay verify``
    pays (toolchain probes, per-process set-up) and inherits nothing warm from this one."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return Phase(**pool.apply(function, args))


def measure(language: str, work: Path, problem_count: int, workers: int | None,
            compile_errors: bool) -> dict[str, Any]:
    corpus = build_corpus(language, work, problem_count, compile_errors)

    def phase(name: str, problems: Path, solutions: Path, cache: str) -> Phase:
        directory = work / name
        directory.mkdir()
        return in_fresh_process(run_phase, str(problems), str(solutions), str(directory),
                                str(work / cache), workers)

    first = phase("first", corpus.problems, corpus.solutions, "cache-1")
    rerun = phase("rerun", corpus.problems, corpus.solutions, "cache-1")
    one_per_test = phase("per-test", corpus.per_test_problems, corpus.per_test_solutions,
                         "cache-2")
    per_test = {f"{solution} :: {test}": one_per_test.statuses.get(f"{one} :: {test}", "?")
                for one, (solution, test) in corpus.per_test.items()}
    disagreements = sorted(
        f"{key}: first {status}, rerun {rerun.statuses.get(key)}, per-test {per_test.get(key)}"
        for key, status in first.statuses.items()
        if not status == rerun.statuses.get(key) == per_test.get(key))
    disagreements += sorted(f"{key}: missing from the first run" for key in per_test
                            if key not in first.statuses)
    n = corpus.solution_count
    return {
        "language": language, "problems": problem_count, "solutions": n,
        "solutions_that_do_not_compile": problem_count // 2 if compile_errors else 0,
        "tests": corpus.test_count,
        "statuses": dict(Counter(first.statuses.values())),
        "first_s": round(first.seconds, 2), "rerun_s": round(rerun.seconds, 2),
        "per_test_s": round(one_per_test.seconds, 2),
        "first_solutions_per_s": round(n / first.seconds, 2),
        "rerun_solutions_per_s": round(n / rerun.seconds, 2),
        "per_test_solutions_per_s": round(n / one_per_test.seconds, 2),
        "ratio_first_over_rerun": round(first.seconds / rerun.seconds, 2),
        "ratio_per_test_over_first": round(one_per_test.seconds / first.seconds, 2),
        "compiles": {"first": first.compiles, "rerun": rerun.compiles,
                     "per_test": one_per_test.compiles},
        "cache_hits": {"first": first.cache_hits, "rerun": rerun.cache_hits,
                       "per_test": one_per_test.cache_hits},
        "sandbox_runs": {"first": first.runs, "rerun": rerun.runs,
                         "per_test": one_per_test.runs},
        "disagreements": disagreements,
    }


def print_rows(row: dict[str, Any]) -> None:
    n = row["solutions"]
    print(f"\n{row['language']}: {row['problems']} problems, {n} solutions, "
          f"{row['tests']} tests ({', '.join(f'{k} {v}' for k, v in row['statuses'].items())})")
    header = f"{'measurement':<42}{'seconds':>9}{'solutions/s':>13}{'compiles':>10}{'runs':>7}"
    print(header)
    print("-" * len(header))
    for key, label in (("first", "first run (empty caches)"),
                       ("rerun", "rerun (warm caches, new run store)"),
                       ("per_test", "baseline: one compile per test")):
        print(f"{label:<42}{row[f'{key}_s']:>9.2f}{row[f'{key}_solutions_per_s']:>13.2f}"
              f"{row['compiles'][key]:>10}{row['sandbox_runs'][key]:>7}")
    print(f"ratio first / rerun: {row['ratio_first_over_rerun']:.2f}x   "
          f"ratio per-test / per-solution (first run): {row['ratio_per_test_over_first']:.2f}x")
    if row["compiles"]["rerun"]:
        print(f"the rerun compiled {row['compiles']['rerun']} times: the "
              f"{row['solutions_that_do_not_compile']} solutions that do not compile (a failed "
              f"compile is not cached)")
    print(f"tests whose status differs between the three: {len(row['disagreements'])}")
    for line in row["disagreements"][:20]:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", action="append", choices=LANGUAGES,
                        help="a language to measure (repeatable; default: cpp and java)")
    parser.add_argument("--problems", type=int, default=len(SPECS),
                        help=f"how many of the {len(SPECS)} problems to use")
    parser.add_argument("--workers", type=int, default=None,
                        help="sandbox runs at once (default: one per core)")
    parser.add_argument("--no-compile-errors", action="store_true",
                        help="every third solution crashes, none fails to compile (a failed "
                             "compile is not cached, so each rerun compiles it again)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    languages = args.lang or ["cpp", "java"]
    print(f"{os.cpu_count()} cores; each measurement in a fresh process with a fresh run "
          f"store; per-test time limit {TIMEOUT_S:g} s")
    rows = []
    for language in languages:
        with tempfile.TemporaryDirectory(prefix=f"assay-bench-{language}-") as tmp:
            row = measure(language, Path(tmp), args.problems, args.workers,
                          not args.no_compile_errors)
        rows.append(row)
        print_rows(row)
    if args.json:
        args.json.write_text(json.dumps({"cores": os.cpu_count(), "languages": rows},
                                        indent=2))


if __name__ == "__main__":
    main()
