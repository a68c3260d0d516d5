package dev.qcow2.cli;
final class SparkScan {
    static int run(String master, String out, dev.qcow2.scan.ScanOptions options, java.util.List<String> paths, boolean json,
                   java.io.PrintWriter stdout, java.io.PrintWriter err) {
        throw new Errors.CliException("--spark: not yet");
    }
}
