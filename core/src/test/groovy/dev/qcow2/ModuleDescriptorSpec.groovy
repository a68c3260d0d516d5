package dev.qcow2

import java.lang.module.ModuleDescriptor
import java.lang.reflect.Modifier
import java.nio.file.Files
import java.nio.file.Path
import spock.lang.Specification

/**
 * The core's API surface: the module descriptor exports every package but the internal ones,
 * and no exported public type shows an internal type in a public or protected signature.
 */
class ModuleDescriptorSpec extends Specification {

    static final Set<String> INTERNAL = ['dev.qcow2.alloc', 'dev.qcow2.codec'] as Set

    static Path mainClasses() {
        Path.of(ImageLimitException.protectionDomain.codeSource.location.toURI())
    }

    static ModuleDescriptor descriptor() {
        Files.newInputStream(mainClasses().resolve('module-info.class')).withCloseable { ModuleDescriptor.read(it) }
    }

    static Set<String> packagesWithClasses() {
        Path root = mainClasses()
        Files.walk(root).withCloseable { stream ->
            stream.filter { it.toString().endsWith('.class') && it.fileName.toString() != 'module-info.class' }
                  .collect { root.relativize(it.parent).toString().replace('/', '.') } as Set
        }
    }

    def "the descriptor exports exactly the non-internal packages"() {
        given:
        ModuleDescriptor module = descriptor()

        expect:
        module.name() == 'dev.qcow2.core'
        module.exports()*.source() as Set == packagesWithClasses() - INTERNAL
        module.exports().every { !it.isQualified() }
    }

    private static boolean isVisible(Class<?> type) {
        for (Class<?> t = type; t != null; t = t.enclosingClass) {
            if (!Modifier.isPublic(t.modifiers) || t.anonymousClass || t.localClass) return false
        }
        true
    }

    private static boolean isApi(int modifiers) {
        Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers)
    }

    private static boolean internal(Class<?> type) {
        while (type.array) type = type.componentType
        !type.primitive && type.package != null && type.package.name in INTERNAL
    }
}
