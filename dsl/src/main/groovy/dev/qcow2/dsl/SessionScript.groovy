package dev.qcow2.dsl

import org.codehaus.groovy.runtime.InvokerHelper

/**
 * The base class of every DSL script ({@link DslShell} compiles with it): how a name in DSL text
 * is resolved, the same in the REPL, {@code qcow2 run} scripts and notebook cells.
 * <ol>
 *   <li>A variable of the session (one the user assigned, {@code leaks = [1, 2, 3]}, or one a
 *       front end bound, {@code args}, {@code display}) wins over a command of the same name:
 *       {@code leaks.size()} is the list's size. Assigning always makes a variable.
 *   <li>Otherwise a command ({@link Words}) of the {@link Session}: words read without arguments
 *       ({@code info}, {@code check}, {@code refcounts}, {@code l2}) give their value; words that
 *       need arguments run only when called ({@code walk l2}, {@code repair leaks}); commands
 *       that take no arguments but change something run only with parentheses ({@code close()},
 *       {@code undo()}): merely mentioning their name is a one-line error saying so.
 *   <li>Anything else is the script's own (println, methods it defines) or an unknown name.
 * </ol>
 */
abstract class SessionScript extends Script {
    private Session session

    void setSession(Session session) { this.session = session }

    @Override
    Object getProperty(String name) {
        Binding b = getBinding()
        if (b.hasVariable(name)) return b.getVariable(name)
        if (Words.isCommand(name)) {
            if (Words.isValue(name)) return InvokerHelper.getProperty(session, name)
            String usage = Help.usage(name)
            throw new DslException(Words.takesNoArguments(name)
                    ? "$name is a command: run it as $name()" + (usage && usage != "$name()" ? "; use: $usage" : '')
                    : "$name needs arguments; use: ${usage ?: name + '(…)'}")
        }
        super.getProperty(name)
    }

    @Override
    void setProperty(String name, Object value) {
        getBinding().setVariable(name, value)
    }

    @Override
    Object invokeMethod(String name, Object args) {
        Binding b = getBinding()
        if (b.hasVariable(name) && b.getVariable(name) instanceof Closure) {
            return ((Closure) b.getVariable(name)).call(InvokerHelper.asArray(args))
        }
        // a command with arguments it does not take ({@code walk l2, l1}, {@code check()}) is a
        // MissingMethodException on Session: DslShell turns it into "wrong arguments …; use: …"
        if (Words.isCommand(name)) return InvokerHelper.invokeMethod(session, name, args)
        super.invokeMethod(name, args)
    }
}
