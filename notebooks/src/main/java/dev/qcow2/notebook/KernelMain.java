package dev.qcow2.notebook;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.kernel.KernelConnectionProperties;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code java -cp ... dev.qcow2.notebook.KernelMain CONNECTION_FILE}: what the kernelspec runs. */
public final class KernelMain {
    private KernelMain() { }

    public static void main(String[] args) throws Exception {
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
        // the base library logs every socket event at INFO on stderr; only problems matter here
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        for (var h : java.util.logging.Logger.getLogger("").getHandlers()) h.setLevel(java.util.logging.Level.WARNING);
        // handlers are set before the sockets bind, so an early request is never lost
        var connection = new JupyterConnection(KernelConnectionProperties.parse(json));
        var kernel = new Qcow2Kernel();
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        System.exit(0);
    }
}
