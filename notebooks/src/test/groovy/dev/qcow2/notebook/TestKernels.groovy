package dev.qcow2.notebook

import groovy.json.JsonOutput
import groovy.json.JsonSlurper

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * The kernelspecs the specs start, installed once per test JVM under target/test-jupyter/PID/MODE
 * (its own directory per JVM: Surefire may run two test JVMs side by side)
 * (MODE = the kernelspec's interrupt_mode; "message" with the AOT cache, as install-kernel.sh
 * installs it), and the protocol driver (src/test/python/kernel_driver.py, Debian's
 * jupyter-client). Missing Jupyter fails the spec, it does not skip it.
 */
final class TestKernels {
    static final Path MODULE = Path.of(System.getProperty('user.dir'))
    static final String PYTHON = '/usr/bin/python3'
    static final Path DRIVER = MODULE.resolve('src/test/python/kernel_driver.py')
    private static final Map<String, Path> installed = [:]

    /** The JUPYTER_PATH holding kernels/qcow2-java for {@code mode}. */
    static synchronized Path jupyterPath(String mode) {
        installed.computeIfAbsent(mode) {
            Path home = MODULE.resolve("target/test-jupyter/${ProcessHandle.current().pid()}/$mode")
            Install.install(home.resolve('kernels'), classPath(), mode, mode == 'message')
            home
        }
    }

    static List<String> classPath() {
        Path cpFile = MODULE.resolve('target/kernel.classpath')
        assert Files.exists(cpFile): 'target/kernel.classpath is written in generate-resources'
        [MODULE.resolve('target/classes').toString()] + Files.readString(cpFile).trim().split(File.pathSeparator).toList()
    }

    /** Jupyter's environment: kernelspecs from {@code jupyterPath}, everything else under {@code scratch}. */
    static Map<String, String> env(Path jupyterPath, Path scratch) {
        [JUPYTER_PATH: jupyterPath.toString(), JUPYTER_DATA_DIR: scratch.resolve('data').toString(),
         JUPYTER_RUNTIME_DIR: scratch.resolve('runtime').toString(), JUPYTER_CONFIG_DIR: scratch.resolve('config').toString()]
    }

    static void assertJupyterClient() {
        assert Files.isExecutable(Path.of(PYTHON)): "$PYTHON is missing: apt-get install -y --no-install-recommends jupyter-client"
        def p = new ProcessBuilder(PYTHON, '-c', 'import jupyter_client').redirectErrorStream(true).start()
        String out = p.inputStream.text
        assert p.waitFor() == 0: "jupyter_client is missing ($out.trim()): apt-get install -y --no-install-recommends jupyter-client"
    }

    /**
     * Starts the kernel of {@code mode}, runs {@code steps} (see kernel_driver.py) and shuts it
     * down; the driver's answer: ready (seconds), alive, steps (one result per step).
     */
    static Map drive(Path scratch, String mode, List<Map> steps) {
        def pb = new ProcessBuilder(PYTHON, DRIVER.toString())
        pb.environment().putAll(env(jupyterPath(mode), scratch))
        def p = pb.start()
        def out = new StringBuilder(), err = new StringBuilder()
        def readers = [Thread.start { out << p.inputStream.text }, Thread.start { err << p.errorStream.text }]
        p.outputStream.withWriter('UTF-8') { it << JsonOutput.toJson([kernel: Install.NAME, steps: steps]) }
        assert p.waitFor(300, TimeUnit.SECONDS): 'the kernel driver took over 300 s'
        readers*.join()
        assert p.exitValue() == 0: "kernel driver failed: ${err.toString().readLines().takeRight(5).join(' | ')}"
        new JsonSlurper().parseText(out.toString()) as Map
    }
}
