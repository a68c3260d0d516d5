package dev.qcow2.dsl

import java.lang.annotation.ElementType
import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy
import java.lang.annotation.Target

/**
 * A public member of a command object ({@link Session}, the result types) that is there for the
 * engine and the front ends, not a DSL word: {@link Words} leaves it out of the command list, the
 * completion and name resolution. Everything else public on {@link Session} is a command.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target([ElementType.METHOD])
@interface Internal {
}
