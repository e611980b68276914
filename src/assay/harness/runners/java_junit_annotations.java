package assay.junit;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The annotations of test classes and their methods, read from their class files.
 *
 * <p>Reflection materialises each annotation as a dynamic proxy: the first one of a JVM
 * generates proxy classes and a module for them, about 30 ms of every run. The runner only
 * needs JUnit's few annotations, so it reads the RuntimeVisibleAnnotations attributes itself.
 * Only annotations declared on the class or method count, as with
 * {@code isAnnotationPresent}: none of JUnit's stand-ins is {@code @Inherited}. A class whose
 * class file is not at hand (not loaded from the class path by the runner) is asked through
 * reflection, with the same result.
 *
 * <p>Element values: primitives boxed, strings as String, class literals as the class's
 * binary name (or array descriptor, as Class.forName takes it), enum constants by name,
 * arrays as List; nested annotations are skipped. Elements left at their default are absent.
 */
final class Annotations {
    /** Reads the class file of a class, or returns null when it has none at hand. */
    interface Source {
        byte[] classFile(Class<?> type);
    }

    private static final Map<String, Annotations> PARSED = new HashMap<>();

    // annotation type (binary name) -> element -> value
    private final Map<String, Map<String, Object>> ofClass;
    // method name + descriptor -> annotation type -> element -> value
    private final Map<String, Map<String, Map<String, Object>>> ofMethods;

    private Annotations(Map<String, Map<String, Object>> ofClass,
                        Map<String, Map<String, Map<String, Object>>> ofMethods) {
        this.ofClass = ofClass;
        this.ofMethods = ofMethods;
    }

    /** The elements of annotation {@code name} on the class, or null when it has none. */
    static Map<String, Object> of(Class<?> type, String name, Source source) {
        Annotations parsed = parse(type, source);
        if (parsed == null) {
            return reflected(type.getDeclaredAnnotations()).get(name);
        }
        return parsed.ofClass.get(name);
    }

    /** The elements of annotation {@code name} on the method, or null when it has none. */
    static Map<String, Object> of(Method method, String name, Source source) {
        Annotations parsed = parse(method.getDeclaringClass(), source);
        if (parsed == null) {
            return reflected(method.getDeclaredAnnotations()).get(name);
        }
        Map<String, Map<String, Object>> annotations = parsed.ofMethods.get(key(method));
        return annotations == null ? null : annotations.get(name);
    }

    static boolean has(Method method, String name, Source source) {
        return of(method, name, source) != null;
    }

    private static synchronized Annotations parse(Class<?> type, Source source) {
        ClassLoader loader = type.getClassLoader();
        if (loader == null || loader == ClassLoader.getPlatformClassLoader()) {
            // The JDK's classes: never annotated with JUnit's annotations.
            return new Annotations(new HashMap<>(), new HashMap<>());
        }
        // Each test loads the classes afresh, from the same class files: parse them once.
        Annotations known = PARSED.get(type.getName());
        if (known != null) {
            return known;
        }
        byte[] bytes = source.classFile(type);
        if (bytes == null) {
            return null;
        }
        try {
            known = new Reader(bytes).read();
        } catch (IOException | RuntimeException unreadable) {
            return null;  // not a class file we understand: reflection decides
        }
        PARSED.put(type.getName(), known);
        return known;
    }

    /** What reflection says, in the same form (used without a class file). */
    private static Map<String, Map<String, Object>> reflected(Annotation[] annotations) {
        Map<String, Map<String, Object>> found = new HashMap<>();
        for (Annotation annotation : annotations) {
            Map<String, Object> elements = new HashMap<>();
            for (Method element : annotation.annotationType().getDeclaredMethods()) {
                if (element.getParameterCount() != 0) {
                    continue;
                }
                try {
                    element.setAccessible(true);
                    Object value = element.invoke(annotation);
                    if (value == null || value.equals(element.getDefaultValue())) {
                        continue;  // at its default, as in a class file
                    }
                    if (value instanceof Class) {
                        value = ((Class<?>) value).getName();
                    } else if (value instanceof Enum) {
                        value = ((Enum<?>) value).name();
                    }
                    elements.put(element.getName(), value);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // an element we cannot read is left at its default
                }
            }
            found.put(annotation.annotationType().getName(), elements);
        }
        return found;
    }

    /** A method's name and descriptor, as its class file names it. */
    static String key(Method method) {
        StringBuilder out = new StringBuilder(method.getName()).append('(');
        for (Class<?> parameter : method.getParameterTypes()) {
            out.append(descriptor(parameter));
        }
        return out.append(')').append(descriptor(method.getReturnType())).toString();
    }

    private static String descriptor(Class<?> type) {
        if (type.isArray()) {
            return type.getName().replace('.', '/');
        }
        if (!type.isPrimitive()) {
            return "L" + type.getName().replace('.', '/') + ";";
        }
        if (type == void.class) {
            return "V";
        }
        if (type == boolean.class) {
            return "Z";
        }
        if (type == long.class) {
            return "J";
        }
        // byte B, char C, double D, float F, int I, short S: the first letter, upper-cased
        return String.valueOf(Character.toUpperCase(type.getName().charAt(0)));
    }

    /** The class-file format (JVMS chapter 4), as far as annotations go. */
    private static final class Reader {
        private final DataInputStream in;
        private Object[] constants;

        Reader(byte[] bytes) {
            in = new DataInputStream(new ByteArrayInputStream(bytes));
        }

        Annotations read() throws IOException {
            if (in.readInt() != 0xCAFEBABE) {
                throw new IOException("not a class file");
            }
            in.readUnsignedShort();  // minor version
            in.readUnsignedShort();  // major version
            readConstants();
            in.readUnsignedShort();  // access flags
            in.readUnsignedShort();  // this class
            in.readUnsignedShort();  // super class
            skip(2 * in.readUnsignedShort());  // interfaces
            int fields = in.readUnsignedShort();
            for (int i = 0; i < fields; i++) {
                skip(6);  // access, name, descriptor
                annotations();
            }
            Map<String, Map<String, Map<String, Object>>> ofMethods = new HashMap<>();
            int methods = in.readUnsignedShort();
            for (int i = 0; i < methods; i++) {
                in.readUnsignedShort();  // access
                String name = utf8(in.readUnsignedShort());
                String descriptor = utf8(in.readUnsignedShort());
                ofMethods.put(name + descriptor, annotations());
            }
            return new Annotations(annotations(), ofMethods);
        }

        private void readConstants() throws IOException {
            constants = new Object[in.readUnsignedShort()];
            for (int i = 1; i < constants.length; i++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1:  // Utf8 (modified UTF-8, as readUTF reads it)
                        constants[i] = in.readUTF();
                        break;
                    case 3:  // Integer
                        constants[i] = in.readInt();
                        break;
                    case 4:  // Float
                        constants[i] = in.readFloat();
                        break;
                    case 5:  // Long: takes two entries
                        constants[i++] = in.readLong();
                        break;
                    case 6:  // Double: takes two entries
                        constants[i++] = in.readDouble();
                        break;
                    case 7: case 8: case 16: case 19: case 20:  // Class, String, MethodType,
                        skip(2);                                 // Module, Package
                        break;
                    case 9: case 10: case 11: case 12: case 17: case 18:  // refs, NameAndType,
                        skip(4);                                           // (Invoke)Dynamic
                        break;
                    case 15:  // MethodHandle
                        skip(3);
                        break;
                    default:
                        throw new IOException("unknown constant pool tag " + tag);
                }
            }
        }

        /** The attributes that follow: the RuntimeVisibleAnnotations among them, by type. */
        private Map<String, Map<String, Object>> annotations() throws IOException {
            Map<String, Map<String, Object>> found = new HashMap<>();
            int attributes = in.readUnsignedShort();
            for (int i = 0; i < attributes; i++) {
                String name = utf8(in.readUnsignedShort());
                int length = in.readInt();
                if (!name.equals("RuntimeVisibleAnnotations")) {
                    skip(length);
                    continue;
                }
                int count = in.readUnsignedShort();
                for (int j = 0; j < count; j++) {
                    String type = utf8(in.readUnsignedShort());
                    Map<String, Object> elements = annotation();
                    // "Lorg/junit/Test;" -> "org.junit.Test"
                    found.put(type.substring(1, type.length() - 1).replace('/', '.'), elements);
                }
            }
            return found;
        }

        private Map<String, Object> annotation() throws IOException {
            Map<String, Object> elements = new HashMap<>();
            int pairs = in.readUnsignedShort();
            for (int i = 0; i < pairs; i++) {
                String name = utf8(in.readUnsignedShort());
                elements.put(name, elementValue());
            }
            return elements;
        }

        private Object elementValue() throws IOException {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 'B': case 'C': case 'D': case 'F': case 'I': case 'J': case 'S': case 'Z':
                case 's':
                    Object constant = constants[in.readUnsignedShort()];
                    if (tag == 'Z') {
                        return ((Integer) constant) != 0;
                    }
                    return constant;
                case 'e':
                    in.readUnsignedShort();  // the enum's type
                    return utf8(in.readUnsignedShort());
                case 'c':
                    return className(utf8(in.readUnsignedShort()));
                case '@':
                    in.readUnsignedShort();  // its type
                    annotation();
                    return null;
                case '[':
                    int count = in.readUnsignedShort();
                    List<Object> values = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        values.add(elementValue());
                    }
                    return values;
                default:
                    throw new IOException("unknown element value tag " + tag);
            }
        }

        /** "Ljava/lang/Foo;" -> "java.lang.Foo"; arrays keep their descriptor form. */
        private static String className(String descriptor) {
            if (descriptor.startsWith("L") && descriptor.endsWith(";")) {
                return descriptor.substring(1, descriptor.length() - 1).replace('/', '.');
            }
            return descriptor.replace('/', '.');
        }

        private String utf8(int index) throws IOException {
            Object value = constants[index];
            if (!(value instanceof String)) {
                throw new IOException("constant " + index + " is not a string");
            }
            return (String) value;
        }

        private void skip(int bytes) throws IOException {
            if (in.skipBytes(bytes) != bytes) {
                throw new IOException("truncated class file");
            }
        }
    }
}
