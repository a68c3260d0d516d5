package dev.qcow2.notebook;

import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The training run of the kernel's AOT cache ({@code KernelMain --train} under
 * {@code -XX:AOTCacheOutput}, see {@link Install}): does what a first notebook session does, so
 * that the classes it loads (JShell and javac, Groovy and the DSL, the Jupyter sockets, the
 * toolkit, the charts) are loaded and linked ahead of time in the next kernel starts.
 * Everything it makes lives in a temporary folder that is removed at the end.
 */
final class KernelTraining {
    private KernelTraining() { }

    static void run() throws Exception {
        KernelMain.quietLogging();
        Path dir = Files.createTempDirectory("qcow2-kernel-training");
        Qcow2Kernel kernel = new Qcow2Kernel();
        try {
            kernel.setDisplaySink(d -> { });
            connectAndClose(kernel);
            Path image = DemoImages.damaged(dir.resolve("damaged.qcow2"));
            kernel.eval("6 * 7");
            kernel.eval("int base = 40;\nString greet(String s) { return \"hi \" + s; }\nfor (int i = 0; i < 3; i++) base++;\ngreet(\"x\") + base");
            kernel.eval("var disk = Path.of(\"" + image + "\");\ntry (var img = Qcow2Image.open(disk)) { img.toString(); }");
            kernel.eval("share(\"disk\", disk)");
            kernel.eval("Charts.hostMap(disk)");
            kernel.eval("%%dsl\nopen disk\ninfo");
            kernel.eval("%%dsl\nleaked = refcounts.leaks\nleaked.size()");
            kernel.eval("%%dsl\ncheck");
            fail(kernel, "int x = missingName + 1;");
            fail(kernel, "%%dsl\nfrobnicate 3");
            kernel.complete("dev.qcow2.image.Qcow2Image.", 27);
            kernel.complete("disk.", 5);
            kernel.complete("%%dsl\nrefcounts.", 16);
            kernel.isComplete("void f() {");
            kernel.isComplete("%%dsl\ninfo");
        } finally {
            kernel.onShutdown(false);
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void fail(Qcow2Kernel kernel, String code) {
        try {
            kernel.eval(code);
        } catch (CellException e) {
            kernel.formatError(e);
        }
    }

    /** Binds the kernel's five sockets on free loopback ports, then closes them. */
    private static void connectAndClose(Qcow2Kernel kernel) throws Exception {
        String json = "{\"transport\": \"tcp\", \"ip\": \"127.0.0.1\", \"signature_scheme\": \"hmac-sha256\", \"key\": \"" + UUID.randomUUID()
                + "\", \"shell_port\": " + freePort() + ", \"control_port\": " + freePort() + ", \"stdin_port\": " + freePort()
                + ", \"hb_port\": " + freePort() + ", \"iopub_port\": " + freePort() + "}";
        var connection = new JupyterConnection(KernelConnectionProperties.parse(json));
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.close();
    }

    private static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
