package assay.junit;

import java.io.FileDescriptor;
import java.lang.reflect.Field;

/**
 * Sets a FileDescriptor's number with sun.misc.Unsafe, called directly. Only the precompiled
 * jar carries this class: javac warns of every use of Unsafe, and a run that compiles the
 * runner's sources with the solution would show those warnings in the solution's compile
 * errors. Without it, the runner calls Unsafe through reflection, which costs more: a
 * reflective call into the JDK reads the method's annotations, which spins proxy classes.
 */
final class DescriptorSetter {
    private DescriptorSetter() {
    }

    static void set(FileDescriptor descriptor, Field fd, int value)
            throws ReflectiveOperationException {
        Field instance = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        instance.setAccessible(true);
        sun.misc.Unsafe unsafe = (sun.misc.Unsafe) instance.get(null);
        unsafe.putInt(descriptor, unsafe.objectFieldOffset(fd), value);
    }
}
