package dev.qcow2.dsl

import groovy.transform.CompileStatic

/**
 * Where a DSL session runs. The engine's commands are the same in all of them; a few words exist
 * in one place only ({@code :quit} in the REPL, {@code display} in notebooks, {@code exit} in
 * scripts): {@link Help} says where, and completion offers them only there.
 */
@CompileStatic
enum FrontEnd {
    REPL('REPL'),
    RUN('qcow2 run'),
    NOTEBOOK('notebook %%dsl cells'),
    JAVA('notebook Java cells, qcow2 jshell')

    /** How {@code help} names it. */
    final String label

    FrontEnd(String label) { this.label = label }
}
