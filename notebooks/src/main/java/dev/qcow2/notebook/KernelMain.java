package dev.qcow2.notebook;

import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code java -cp ... dev.qcow2.notebook.KernelMain CONNECTION_FILE}: what the kernelspec runs.
 * {@code KernelMain --train} runs {@link KernelTraining} instead (the AOT cache's training run).
 */
public final class KernelMain {
    private KernelMain() { }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--train")) {
            KernelTraining.run();
            System.exit(0);
        }
        if (args.length != 1) {
            System.err.println("usage: KernelMain CONNECTION_FILE (Jupyter starts the kernel with it)");
            System.exit(2);
        }
        String json;
        try {
            json = Files.readString(Path.of(args[0]));
        } catch (IOException e) {
            System.err.println(args[0] + ": cannot read the connection file: " + e.getMessage());
            System.exit(2);
            return;
        }
        quietLogging();
        // handlers are set before the sockets bind, so an early request is never lost
        var connection = new JupyterConnection(KernelConnectionProperties.parse(json));
        var kernel = new Qcow2Kernel();
        interruptOnSigint(kernel);
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        System.exit(0);
    }

    /** The base library logs socket events; only problems matter here. */
    static void quietLogging() {
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        for (var h : java.util.logging.Logger.getLogger("").getHandlers()) h.setLevel(java.util.logging.Level.WARNING);
    }

    /**
     * SIGINT interrupts the running cell instead of ending the JVM, so the kernel works with
     * {@code "interrupt_mode": "signal"} too (the kernelspec says "message": Jupyter then sends
     * interrupt_request on the control channel, which {@link Qcow2Kernel#interrupt} handles), and
     * a Ctrl-C in the terminal that runs Jupyter does not kill the kernel.
     */
    @SuppressWarnings("restriction")
    static void interruptOnSigint(Qcow2Kernel kernel) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> kernel.interrupt());
        } catch (IllegalArgumentException e) {
            // SIGINT is reserved here (the JVM runs with -Xrs): message interrupts still work
        }
    }
}
