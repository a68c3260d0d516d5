package dev.qcow2.notebook;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.Label;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.LabelTarget;
import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.io.ByteArrayInputStream;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes Java snippets interruptible: rewrites each snippet class so that every method calls
 * {@link CellThread#checkStop} on entry and before every backward jump (loops, including
 * {@code while (true) {}} with nothing to call inside). This is what JShell's own
 * LocalExecutionControl does on JDK 24+ (its REPL.$Cancel$ class), done here with a check the
 * kernel owns, because the kernel runs snippets itself to keep their result objects.
 * A method start check also stops endless recursion; a backward jump is one whose target label
 * was already seen in the method's code (the class file API visits code in order).
 */
final class StopCheckWeaver {
    private static final ClassDesc CELL_THREAD = ClassDesc.of(CellThread.class.getName());

    /** Snippet class files seen so far, by internal name: stack maps need their super types. */
    private final Map<String, byte[]> snippetClasses = new ConcurrentHashMap<>();

    byte[] instrument(String className, byte[] classFile) {
        snippetClasses.put(className.replace('.', '/'), classFile);
        var resolver = ClassHierarchyResolver.defaultResolver().orElse(ClassHierarchyResolver.ofResourceParsing(desc -> {
            String internal = desc.descriptorString();
            byte[] bytes = snippetClasses.get(internal.substring(1, internal.length() - 1));
            return bytes == null ? null : new ByteArrayInputStream(bytes);
        })).cached();
        var cf = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(resolver));
        try {
            return cf.transformClass(cf.parse(classFile), ClassTransform.transformingMethodBodies(CodeTransform.ofStateful(Checks::new)));
        } catch (IllegalArgumentException e) {
            // a type the stack map generator cannot resolve: the class runs as compiled, its
            // loops without stop checks (interrupts still end blocking calls)
            return classFile;
        }
    }

    /** The transform of one method body. */
    private static final class Checks implements CodeTransform {
        private final Set<Label> seen = new HashSet<>();

        @Override public void atStart(CodeBuilder b) { check(b); }

        @Override public void accept(CodeBuilder b, CodeElement e) {
            switch (e) {
                case LabelTarget t -> seen.add(t.label());
                case BranchInstruction br when seen.contains(br.target()) -> check(b);
                case TableSwitchInstruction sw when backward(sw.defaultTarget(), sw.cases()) -> check(b);
                case LookupSwitchInstruction sw when backward(sw.defaultTarget(), sw.cases()) -> check(b);
                default -> { }
            }
            b.with(e);
        }

        private boolean backward(Label dflt, java.util.List<SwitchCase> cases) {
            return seen.contains(dflt) || cases.stream().anyMatch(c -> seen.contains(c.target()));
        }

        private static void check(CodeBuilder b) {
            b.invokestatic(CELL_THREAD, "checkStop", ConstantDescs.MTD_void);
        }
    }
}
