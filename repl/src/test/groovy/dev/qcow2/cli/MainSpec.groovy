package dev.qcow2.cli

import spock.lang.Specification

/**
 * The command line is assembled per invocation: a command line naming a subcommand builds only
 * that one (picocli's reflective model of all of them costs ~0.15 s of start-up), while the
 * usage, help and error messages still see every subcommand.
 */
class MainSpec extends Specification {
    static final List<String> ALL = ['info', 'map', 'check', 'undo', 'convert', 'compare', 'dump', 'bench', 'create',
                                     'io', 'snapshot', 'vmstate', 'resize', 'commit', 'rebase', 'measure', 'amend', 'bitmap', 'rescue', 'carve', 'scan', 'hash', 'repl', 'run',
                                     'jshell', 'help']

    def "#args builds the subcommands #built"() {
        expect:
        Main.commandLine(false, args as String[]).subcommands.keySet() as List == built

        where:
        args                           || built
        ['convert', 'a', 'b']          || ['convert']
        ['info', '--output=json', 'x'] || ['info']
        ['run', 'script.groovy']       || ['run']
        ['--version']                  || []
        []                             || ALL
        ['--help']                     || ALL
        ['help', 'convert']            || ALL
        ['conver']                     || ALL
    }

    def "the usage without a command lists every subcommand"() {
        when:
        def r = Cli.run([])

        then:
        r.exit == 0
        ALL.every { r.out =~ /(?m)^\s+$it\b/ }
    }

    def "#args prints the command's usage under the qcow2 name"() {
        expect:
        Cli.run(args).out.startsWith('Usage: qcow2 convert ')

        where:
        args << [['help', 'convert'], ['convert', '--help']]
    }

    def "an unknown command is an error naming it, with qemu-img's usage exit status 1"() {
        when:
        def r = Cli.run(['conver', 'x'])

        then:
        r.exit == 1
        r.err.readLines() == ["qcow2: Unmatched arguments from index 0: 'conver', 'x'",
                              "Try 'qcow2 --help' for more information."]
        r.out == ''
    }

    def "--version names the toolkit"() {
        when:
        def r = Cli.run(['--version'])

        then:
        r.exit == 0
        r.out.startsWith('qcow2 (qcow2-toolkit) ')
    }

    def "run leaves everything after the script to the script"() {
        expect:
        Main.commandLine(false, 'run', 'x.groovy', '--in-place').subcommands['run'].commandSpec.parser().stopAtPositional()
    }
}
