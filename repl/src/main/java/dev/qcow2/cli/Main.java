package dev.qcow2.cli;

/** Entry point of the {@code qcow2} command (placeholder until the CLI lands). */
public final class Main {
    private Main() { }

    public static void main(String[] args) {
        System.out.println("qcow2: command-line tool (under construction)");
    }
}
