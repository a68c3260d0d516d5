package dev.qcow2.notebook;

/**
 * The functions Java cells call without a class name ({@code import static} in every JShell
 * session, see {@link JavaCells#IMPORTS}): they act on the running kernel. One static import
 * instead of three method snippets saves JShell three compilations at start-up.
 */
public final class CellFunctions {
    private CellFunctions() { }

    /** Shows a value now, before the cell's result. */
    public static void display(Object value) { Qcow2Kernel.current().display(value); }

    /** Runs DSL text in the notebook's shared DSL session (the one of the %%dsl cells). */
    public static Object dsl(String code) { return Qcow2Kernel.current().dsl(code); }

    /** Makes a Java value a variable of the %%dsl cells. */
    public static void share(String name, Object value) { Qcow2Kernel.current().share(name, value); }
}
