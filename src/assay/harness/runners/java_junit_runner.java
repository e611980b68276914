package assay.junit;

import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * assay's runner of JUnit-style tests (JUnit 4 and 5 annotations), run inside the sandbox.
 *
 * <p>It runs the tests named on its command line (every {@code @Test} method of the classes in
 * {@code ASSAY_TEST_CLASSES} when none), each in a thread of its own with the time limit of
 * {@code ASSAY_TEST_TIMEOUT}, on a fresh instance of classes loaded afresh: every test sees
 * the solution's static state as a new JVM would, whatever ran before it. A test that
 * outlives its limit is reported TIMEOUT and the JVM halts, since a Java thread cannot be
 * stopped safely; the harness restarts the runner for the tests not yet run. The same holds
 * when the code under test ends the JVM (System.exit). Results go to the report fd as JSON
 * lines (see assay.harness.protocol).
 *
 * <p>It is written to start fast, since a JVM starts for every (solution, suite): no lambdas,
 * method references or String.format (the jar is compiled with -XDstringConcat=inline too),
 * whose first use bootstraps java.lang.invoke, regex and locale data at tens of ms per
 * start; no reflective calls into the JDK, whose annotation checks spin proxy classes (see
 * Annotations and DescriptorSetter).
 */
public final class Runner {
    // The main class, compiled with each solution: it loads this runner from the jar.
    private static final String BOOTSTRAP = "AssayJUnitRunner";
    private static final int MESSAGE_LIMIT = 2000;
    // As deep as the JVM's main thread gets (-Xss64m), for recursive solutions.
    private static final long TEST_STACK_BYTES = 64L << 20;
    private static final String[] SOURCE_DIRS = {"tests", "solution", "."};
    private static final String[] SHARED_PREFIXES = {
        "java.", "javax.", "jdk.", "sun.", "com.sun.", "org.junit.", "assay.junit.",
        BOOTSTRAP};

    private static final Object REPORT_LOCK = new Object();
    private static OutputStream report;
    private static final Map<String, List<String>> SOURCES = new HashMap<>();
    // The test running now (read by the shutdown hook when the code under test exits).
    private static volatile String current;
    private static volatile long currentStart;

    private Runner() {
    }

    public static void main(String[] args) throws Exception {
        report = openReport(Integer.parseInt(System.getenv("ASSAY_REPORT_FD")));
        double timeoutS = parseTimeout(System.getenv("ASSAY_TEST_TIMEOUT"));
        List<String> classes = new ArrayList<>();
        for (String name : String.valueOf(System.getenv("ASSAY_TEST_CLASSES")).split(",")) {
            if (!name.isBlank() && !name.equals("null")) {
                classes.add(name.trim());
            }
        }
        List<String> names = new ArrayList<>(Arrays.asList(args));
        if (names.isEmpty()) {
            try {
                names = collect(classes);
            } catch (Throwable thrown) {
                emit("{\"fatal\": " + json(limit("cannot load the test classes " + classes
                        + ": " + thrown)) + "}");
                halt(0);
            }
            emit("{\"collect\": " + jsonList(names) + "}");
            if (names.isEmpty()) {
                emit("{\"fatal\": " + json(classes.isEmpty() ? "no @Test methods found: the"
                        + " test file declares no class" : "no @Test methods found in "
                        + String.join(", ", classes)) + "}");
                halt(0);
            }
        }
        Runtime.getRuntime().addShutdownHook(new ExitHook());
        for (String name : new ArrayList<>(new LinkedHashSet<>(names))) {
            runOne(name, classes, timeoutS);
        }
        emit("{\"done\": true}");
        halt(0);
    }

    /**
     * A stream on the inherited report fd. Java cannot open a file descriptor by number, and
     * /proc/self/fd/N of a pipe made by another user is not ours to open: the descriptor's
     * private field is set instead, with sun.misc.Unsafe (open to every module): directly
     * when the jar carries DescriptorSetter, else through reflection; by reflection on the
     * field itself where java.io is open to us.
     */
    private static OutputStream openReport(int fd) throws ReflectiveOperationException {
        FileDescriptor descriptor = new FileDescriptor();
        Field field = FileDescriptor.class.getDeclaredField("fd");
        try {
            Class.forName("assay.junit.DescriptorSetter")
                    .getDeclaredMethod("set", FileDescriptor.class, Field.class, int.class)
                    .invoke(null, descriptor, field, fd);
        } catch (ReflectiveOperationException compiledFromSourcesOrNoUnsafe) {
            try {
                field.setAccessible(true);
                field.setInt(descriptor, fd);
            } catch (RuntimeException closedToUs) {
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                Field instance = unsafeClass.getDeclaredField("theUnsafe");
                instance.setAccessible(true);
                Object unsafe = instance.get(null);
                Object offset = unsafeClass.getMethod("objectFieldOffset", Field.class)
                        .invoke(unsafe, field);
                unsafeClass.getMethod("putInt", Object.class, long.class, int.class)
                        .invoke(unsafe, descriptor, offset, fd);
            }
        }
        if (!descriptor.valid()) {
            throw new IllegalStateException("report fd " + fd + " is not valid");
        }
        return new FileOutputStream(descriptor);
    }

    private static double parseTimeout(String text) {
        try {
            double value = Double.parseDouble(text);
            return value > 0 ? value : 5.0;
        } catch (RuntimeException e) {
            return 5.0;
        }
    }

    /** Stops the JVM now: no shutdown hook runs, stray threads of the tests die with it. */
    private static void halt(int status) {
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }

    /** Shutdown hook: the code under test ended the JVM (System.exit) during a test. */
    private static final class ExitHook extends Thread {
        @Override
        public void run() {
            String name = current;
            if (name != null) {
                result(name, "ERROR", "the JVM exited during the test (System.exit or"
                        + " Runtime.exit was called)", (System.nanoTime() - currentStart) / 1e9);
                current = null;
            }
        }
    }

    /** Orders methods by name (a class, not a lambda: see the class comment). */
    private static final class ByName implements Comparator<Method> {
        @Override
        public int compare(Method a, Method b) {
            return a.getName().compareTo(b.getName());
        }
    }

    // -- finding the tests -----------------------------------------------------------------

    private static List<String> collect(List<String> classes) throws ClassNotFoundException {
        List<String> names = new ArrayList<>();
        for (String className : classes) {
            Class<?> type = Class.forName(className, false, new FreshLoader());
            List<Method> tests = new ArrayList<>();
            for (Method method : type.getDeclaredMethods()) {
                if (isTest(method)) {
                    tests.add(method);
                }
            }
            tests.sort(new ByName());
            for (Method method : tests) {
                names.add(type.getSimpleName() + "." + method.getName());
            }
        }
        return names;
    }

    // JUnit's annotations, by name: they are read from class files (see Annotations).
    private static final String TEST4 = "org.junit.Test";
    private static final String TEST5 = "org.junit.jupiter.api.Test";
    private static final String TIMEOUT = "org.junit.jupiter.api.Timeout";
    private static final String IGNORE = "org.junit.Ignore";
    private static final String DISABLED = "org.junit.jupiter.api.Disabled";
    private static final String BEFORE_CLASS = "org.junit.BeforeClass";
    private static final String BEFORE_ALL = "org.junit.jupiter.api.BeforeAll";
    private static final String BEFORE = "org.junit.Before";
    private static final String BEFORE_EACH = "org.junit.jupiter.api.BeforeEach";
    private static final String AFTER = "org.junit.After";
    private static final String AFTER_EACH = "org.junit.jupiter.api.AfterEach";

    private static boolean isTest(Method method) {
        return Annotations.has(method, TEST4, FreshLoader.SOURCE)
                || Annotations.has(method, TEST5, FreshLoader.SOURCE);
    }

    private static Map<String, Object> annotation(Method method, String name) {
        return Annotations.of(method, name, FreshLoader.SOURCE);
    }

    private static Map<String, Object> annotation(Class<?> type, String name) {
        return Annotations.of(type, name, FreshLoader.SOURCE);
    }

    /** What running one test needs, found without running any code of the test class. */
    private static final class Plan {
        Class<?> type;
        Method method;
        long ownLimitMs;  // the test's own time limit (@Test(timeout), @Timeout); 0 when none
        String skipped;  // why it does not run (@Ignore, @Disabled), or null
        Class<? extends Throwable> expected;  // @Test(expected), or null
    }

    private static Plan plan(String name, List<String> classes) throws Problem {
        int dot = name.lastIndexOf('.');
        if (dot <= 0 && classes.isEmpty()) {
            throw new Problem("not a test name: " + name + " (expected Class.method)");
        }
        // A bare method name (a suite may list its tests so) is one of the first test class.
        String simple = dot <= 0 ? classes.get(0) : name.substring(0, dot);
        String methodName = name.substring(dot + 1);
        String className = simple;
        for (String candidate : classes) {
            if (candidate.equals(simple) || candidate.endsWith("." + simple)) {
                className = candidate;
            }
        }
        Plan plan = new Plan();
        try {
            plan.type = Class.forName(className, false, new FreshLoader());
        } catch (ClassNotFoundException e) {
            throw new Problem("no test class " + className);
        }
        for (Method method : plan.type.getDeclaredMethods()) {
            if (method.getName().equals(methodName) && isTest(method)) {
                plan.method = method;
            }
        }
        if (plan.method == null) {
            throw new Problem("no @Test method " + methodName + " in " + className);
        }
        if (plan.method.getParameterCount() != 0) {
            throw new Problem("the test method " + name + " takes parameters; assay runs test"
                    + " methods without parameters only");
        }
        Map<String, Object> junit4 = annotation(plan.method, TEST4);
        long timeout = junit4 == null ? 0L : ((Number) junit4.getOrDefault("timeout", 0L))
                .longValue();
        if (timeout > 0) {
            plan.ownLimitMs = timeout;
        }
        Map<String, Object> limit = annotation(plan.method, TIMEOUT);
        if (limit == null) {
            limit = annotation(plan.type, TIMEOUT);
        }
        if (limit != null) {
            TimeUnit unit = TimeUnit.valueOf((String) limit.getOrDefault("unit", "SECONDS"));
            long value = ((Number) limit.getOrDefault("value", 0L)).longValue();
            plan.ownLimitMs = Math.max(1, unit.toMillis(value));
        }
        plan.skipped = skipReason(annotation(plan.method, IGNORE),
                annotation(plan.method, DISABLED));
        if (plan.skipped == null) {
            plan.skipped = skipReason(annotation(plan.type, IGNORE),
                    annotation(plan.type, DISABLED));
        }
        plan.expected = expected(junit4, plan.type);
        return plan;
    }

    private static String skipReason(Map<String, Object> ignore, Map<String, Object> disabled) {
        if (ignore != null) {
            String value = (String) ignore.getOrDefault("value", "");
            return "@Ignore" + (value.isEmpty() ? "" : " (" + value + ")");
        }
        if (disabled != null) {
            String value = (String) disabled.getOrDefault("value", "");
            return "@Disabled" + (value.isEmpty() ? "" : " (" + value + ")");
        }
        return null;
    }

    /** The exception a JUnit 4 test expects (@Test(expected)), or null for none. */
    private static Class<? extends Throwable> expected(Map<String, Object> junit4, Class<?> type)
            throws Problem {
        Object name = junit4 == null ? null : junit4.get("expected");
        if (name == null || name.equals("org.junit.Test$None")) {
            return null;
        }
        try {
            return Class.forName((String) name, false, type.getClassLoader())
                    .asSubclass(Throwable.class);
        } catch (ClassNotFoundException | ClassCastException e) {
            throw new Problem("the exception @Test(expected) names cannot be loaded: " + e);
        }
    }

    /** A test that cannot run, with the reason. */
    private static final class Problem extends Exception {
        private static final long serialVersionUID = 1L;

        Problem(String message) {
            super(message);
        }
    }

    // -- running one test --------------------------------------------------------------------

    /** How a test ended. */
    private static final class Outcome {
        final String status;
        final String message;

        Outcome(String status, String message) {
            this.status = status;
            this.message = message;
        }
    }

    private static void runOne(String name, List<String> classes, double timeoutS) {
        emit("{\"start\": " + json(name) + "}");
        long start = System.nanoTime();
        Plan plan;
        try {
            plan = plan(name, classes);
        } catch (Problem problem) {
            result(name, "ERROR", problem.getMessage(), 0.0);
            return;
        } catch (Throwable thrown) {
            result(name, "ERROR", limit("the test class does not load: " + thrown), 0.0);
            return;
        }
        if (plan.skipped != null) {
            result(name, "ERROR", "skipped by " + plan.skipped + ", so it did not run", 0.0);
            return;
        }
        long limitMs = Math.max(1, (long) (timeoutS * 1000));
        if (plan.ownLimitMs > 0) {
            limitMs = Math.min(limitMs, plan.ownLimitMs);
        }
        TestThread worker = new TestThread(plan);
        worker.setDaemon(true);
        worker.setContextClassLoader(plan.type.getClassLoader());
        currentStart = start;
        current = name;
        worker.start();
        long deadline = start + limitMs * 1_000_000L;
        for (long left = limitMs; worker.isAlive() && left > 0;
                left = (deadline - System.nanoTime()) / 1_000_000L) {
            try {
                worker.join(left);
            } catch (InterruptedException e) {
                // the code under test interrupted us: keep waiting for the test's deadline
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (worker.isAlive()) {
            current = null;
            result(name, "TIMEOUT", "test exceeded its " + formatSeconds(limitMs)
                    + " s time limit", seconds);
            // The thread cannot be stopped: end the JVM, the harness restarts us for the rest.
            halt(0);
        }
        current = null;
        Outcome outcome = worker.outcome != null ? worker.outcome
                : new Outcome("ERROR", "the test ended without an outcome");
        result(name, outcome.status, outcome.message, seconds);
    }

    /** The thread one test runs in, with a stack as deep as the main thread's. */
    private static final class TestThread extends Thread {
        private final Plan plan;
        volatile Outcome outcome;

        TestThread(Plan plan) {
            super(null, null, "assay-test", TEST_STACK_BYTES);
            this.plan = plan;
        }

        @Override
        public void run() {
            try {
                outcome = execute(plan);
            } catch (Throwable thrown) {
                outcome = new Outcome("ERROR", "the test runner failed: " + thrown);
            }
        }
    }

    private static String formatSeconds(long millis) {
        return millis % 1000 == 0 ? String.valueOf(millis / 1000) : String.valueOf(millis / 1e3);
    }

    /** Runs in the test's own thread: class set-up, a fresh instance, set-up, test, tear-down. */
    private static Outcome execute(Plan plan) {
        Class<?> type = plan.type;
        try {
            Class.forName(type.getName(), true, type.getClassLoader());
            for (Method method : lifecycle(type, BEFORE_CLASS, BEFORE_ALL, true)) {
                if (Modifier.isStatic(method.getModifiers())) {
                    call(method, null);
                }
            }
        } catch (Throwable thrown) {
            return describe(thrown, type, "in the class set-up (static init, @BeforeClass, "
                    + "@BeforeAll): ");
        }
        if (Modifier.isAbstract(type.getModifiers())) {
            return new Outcome("ERROR", "the test class " + type.getName() + " is abstract");
        }
        Object instance;
        try {
            Constructor<?> constructor = type.getDeclaredConstructor();
            constructor.setAccessible(true);
            instance = constructor.newInstance();
            for (Method method : lifecycle(type, BEFORE_CLASS, BEFORE_ALL, true)) {
                if (!Modifier.isStatic(method.getModifiers())) {
                    call(method, instance);
                }
            }
        } catch (NoSuchMethodException e) {
            return new Outcome("ERROR", "the test class " + type.getName()
                    + " has no constructor without parameters");
        } catch (Throwable thrown) {
            return describe(unwrap(thrown), type, "in the test class constructor: ");
        }
        Class<? extends Throwable> expected = plan.expected;
        Outcome outcome = null;
        try {
            for (Method method : lifecycle(type, BEFORE, BEFORE_EACH, true)) {
                call(method, instance);
            }
        } catch (Throwable thrown) {
            outcome = describe(thrown, type, "in the set-up (@Before, @BeforeEach): ");
        }
        if (outcome == null) {
            outcome = runBody(plan.method, instance, expected, type);
        }
        for (Method method : lifecycle(type, AFTER, AFTER_EACH, false)) {
            try {
                call(method, instance);
            } catch (Throwable thrown) {
                if (outcome == null) {
                    outcome = describe(thrown, type, "in the tear-down (@After, @AfterEach): ");
                }
            }
        }
        return outcome != null ? outcome : new Outcome("PASS", "");
    }

    /** The test method itself; null when it passed. */
    private static Outcome runBody(Method test, Object instance,
                                   Class<? extends Throwable> expected, Class<?> type) {
        try {
            call(test, instance);
        } catch (Throwable thrown) {
            if (expected == null) {
                return describe(thrown, type, "");
            }
            if (expected.isInstance(thrown)) {
                return null;
            }
            Outcome wrong = describe(thrown, type, "");
            return new Outcome("ERROR", limit("expected " + expected.getName()
                    + " to be thrown, but got " + wrong.message));
        }
        if (expected != null) {
            return new Outcome("FAIL", "expected " + expected.getName()
                    + " to be thrown, but nothing was thrown");
        }
        return null;
    }

    private static void call(Method method, Object target) throws Throwable {
        method.setAccessible(true);
        try {
            method.invoke(target);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static Throwable unwrap(Throwable thrown) {
        while (thrown instanceof InvocationTargetException && thrown.getCause() != null) {
            thrown = thrown.getCause();
        }
        return thrown;
    }

    /**
     * The methods of the class and its superclasses annotated with either annotation,
     * superclasses' first when {@code parentsFirst}; an overridden method counts once.
     */
    private static List<Method> lifecycle(Class<?> type, String a, String b,
                                          boolean parentsFirst) {
        List<Class<?>> chain = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            chain.add(c);
        }
        List<List<Method>> perClass = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Class<?> c : chain) {  // subclass first, so that an override hides its parent's
            List<Method> own = new ArrayList<>();
            for (Method method : c.getDeclaredMethods()) {
                boolean annotated = Annotations.has(method, a, FreshLoader.SOURCE)
                        || Annotations.has(method, b, FreshLoader.SOURCE);
                if (annotated && method.getParameterCount() == 0 && seen.add(method.getName())) {
                    own.add(method);
                }
            }
            own.sort(new ByName());
            perClass.add(own);
        }
        if (parentsFirst) {
            Collections.reverse(perClass);
        }
        List<Method> found = new ArrayList<>();
        for (List<Method> own : perClass) {
            found.addAll(own);
        }
        return found;
    }

    // -- describing a failure ----------------------------------------------------------------

    /** FAIL for a failed assertion, ERROR for anything else; says where the test was. */
    private static Outcome describe(Throwable thrown, Class<?> type, String prefix) {
        thrown = unwrap(thrown);
        String where = testLine(thrown, type);
        Throwable cause = thrown.getCause() == thrown ? null : thrown.getCause();
        if (thrown instanceof AssertionError) {
            String detail = thrown.getMessage() == null ? "assertion failed" : thrown.getMessage();
            // The cause of a failed assertThrows/assertDoesNotThrow: where it was thrown.
            String origin = cause == null ? "" : " (thrown" + frameText(cause) + ")";
            return new Outcome("FAIL", limit(prefix + detail + origin + where));
        }
        StringBuilder text = new StringBuilder(prefix).append(thrown).append(frameText(thrown));
        if (cause != null) {
            text.append(", caused by ").append(cause).append(frameText(cause));
        }
        return new Outcome("ERROR", limit(text + where));
    }

    /** " at Class.method(File.java:7)": the innermost frame of the code under test. */
    private static String frameText(Throwable thrown) {
        StackTraceElement[] frames = thrown.getStackTrace();
        StackTraceElement chosen = frames.length > 0 ? frames[0] : null;
        for (StackTraceElement frame : frames) {
            if (FreshLoader.NAME.equals(frame.getClassLoaderName())) {
                chosen = frame;
                break;
            }
        }
        if (chosen == null) {
            return "";
        }
        return " at " + chosen.getClassName() + "." + chosen.getMethodName() + "("
                + chosen.getFileName() + ":" + chosen.getLineNumber() + ")";
    }

    /** " at Test.java:12: the line's code" for the innermost frame of the test class. */
    private static String testLine(Throwable thrown, Class<?> type) {
        String name = type.getName();
        for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
            for (StackTraceElement frame : t.getStackTrace()) {
                String owner = frame.getClassName();
                if ((owner.equals(name) || owner.startsWith(name + "$"))
                        && frame.getFileName() != null && frame.getLineNumber() > 0) {
                    String code = sourceLine(frame.getFileName(), frame.getLineNumber());
                    return " [" + frame.getFileName() + ":" + frame.getLineNumber()
                            + (code.isEmpty() ? "" : ": " + code) + "]";
                }
            }
        }
        return "";
    }

    private static String sourceLine(String file, int line) {
        List<String> lines = SOURCES.get(file);
        if (lines == null) {
            lines = readSource(file);
            SOURCES.put(file, lines);
        }
        if (line > lines.size()) {
            return "";
        }
        String code = lines.get(line - 1).trim();
        return code.length() <= 200 ? code : code.substring(0, 200) + "...";
    }

    private static List<String> readSource(String file) {
        for (String directory : SOURCE_DIRS) {
            Path path = Paths.get(directory, file);
            try {
                return Files.readAllLines(path, StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                // not in this directory; try the next
            }
        }
        return List.of();
    }

    private static String limit(String text) {
        return text.length() <= MESSAGE_LIMIT ? text : text.substring(0, MESSAGE_LIMIT) + "...";
    }

    // -- the report channel --------------------------------------------------------------------

    private static void result(String name, String status, String message, double seconds) {
        emit("{\"result\": " + json(name) + ", \"status\": " + json(status) + ", \"message\": "
                + json(limit(message)) + ", \"time\": " + sixDecimals(seconds) + "}");
    }

    /** As String.format("%.6f") of a duration, without loading Formatter (see above). */
    static String sixDecimals(double seconds) {
        long micros = Math.round(Math.max(0.0, seconds) * 1e6);
        String fraction = String.valueOf(1_000_000L + micros % 1_000_000L).substring(1);
        return micros / 1_000_000L + "." + fraction;
    }

    private static void emit(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (REPORT_LOCK) {
            try {
                report.write(bytes);
                report.flush();
            } catch (IOException e) {
                halt(70);  // the harness is gone: nothing left to report to
            }
        }
    }

    private static String jsonList(List<String> values) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            out.append(i == 0 ? "" : ", ").append(json(values.get(i)));
        }
        return out.append("]").toString();
    }

    private static String json(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || Character.isSurrogate(c)) {
                String hex = Integer.toHexString(c);
                out.append("\\u0000", 0, 6 - hex.length()).append(hex);
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    // -- a fresh copy of the test's classes for each test ------------------------------------

    /**
     * Loads the classes of the solution and the tests itself (child first), so that each
     * test starts from fresh static state; the JDK, the JUnit stand-ins and this runner come
     * from the application class loader and are shared. Java asserts are on in the classes it
     * loads, as under Maven's test runner.
     */
    private static final class FreshLoader extends ClassLoader {
        static final String NAME = "assay-test";
        private static final String[] CLASS_PATH =
                System.getProperty("java.class.path", "").split(File.pathSeparator);

        FreshLoader() {
            super(NAME, Runner.class.getClassLoader());
            setDefaultAssertionStatus(true);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> loaded = findLoadedClass(name);
                if (loaded == null && !shared(name)) {
                    byte[] bytes = classBytes(name);
                    if (bytes != null) {
                        loaded = defineClass(name, bytes, 0, bytes.length);
                    }
                }
                if (loaded == null) {
                    return super.loadClass(name, resolve);
                }
                if (resolve) {
                    resolveClass(loaded);
                }
                return loaded;
            }
        }

        private static boolean shared(String name) {
            for (String prefix : SHARED_PREFIXES) {
                if (name.startsWith(prefix)) {
                    return true;
                }
            }
            return false;
        }

        /** The class files of the classes this loader defined (for Annotations). */
        static final Annotations.Source SOURCE = new Annotations.Source() {
            @Override
            public byte[] classFile(Class<?> type) {
                return type.getClassLoader() instanceof FreshLoader
                        ? classBytes(type.getName()) : null;
            }
        };

        private static byte[] classBytes(String name) {
            String resource = name.replace('.', '/') + ".class";
            // The compiled solution and tests are on the application class path (/build).
            // A directory is read directly: the class loader's resource lookup builds URLs
            // and URL connections, classes that each JVM start would load for nothing.
            for (String entry : CLASS_PATH) {
                File directory = new File(entry);
                if (!directory.isDirectory()) {
                    break;  // a jar: the class loader looks, in class-path order
                }
                File file = new File(directory, resource);
                if (file.isFile()) {
                    try (InputStream in = new FileInputStream(file)) {
                        return in.readAllBytes();
                    } catch (IOException e) {
                        return null;
                    }
                }
            }
            try (InputStream in = ClassLoader.getSystemClassLoader().getResourceAsStream(resource)) {
                return in == null ? null : in.readAllBytes();
            } catch (IOException e) {
                return null;
            }
        }
    }
}
