package dev.qcow2;

/**
 * Marks an exception whose message is already the whole line to show the user (a front end's
 * own usage errors: the DSL's, the CLI's, a notebook cell's). {@link ErrorLine} shows such a
 * message as it is, without the class name in front.
 */
public interface OneLineMessage {
}
