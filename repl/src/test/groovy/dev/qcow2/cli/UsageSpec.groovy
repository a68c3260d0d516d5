package dev.qcow2.cli

import spock.lang.Specification

/**
 * Every command's {@code --help}, byte for byte as recorded in src/test/resources/dev/qcow2/cli/usage
 * (recorded before the shared options became mixins, whose per-command texts live in
 * {@link OptionTexts}): option names, order, labels and help texts stay as they are.
 */
class UsageSpec extends Specification {
    static final List<String> COMMANDS = ['info', 'map', 'check', 'undo', 'convert', 'compare', 'dump', 'bench', 'create',
                                          'io', 'snapshot', 'vmstate', 'resize', 'commit', 'rebase', 'measure', 'amend', 'bitmap', 'rescue', 'carve', 'scan', 'hash', 'repl',
                                          'run', 'jshell']

    def "qcow2 #command --help is unchanged"() {
        given:
        String expected = UsageSpec.getResourceAsStream("usage/${command}.txt").getText('UTF-8')

        when:
        def r = Cli.run(command == 'qcow2' ? ['--help'] : [command, '--help'])

        then:
        r.exit == 0
        r.err == ''
        r.out == expected

        where:
        command << ['qcow2'] + COMMANDS
    }

    def "qcow2 help #command prints the same usage as qcow2 #command --help"() {
        expect:
        Cli.run(['help', command]).out == UsageSpec.getResourceAsStream("usage/${command}.txt").getText('UTF-8')

        where:
        command << COMMANDS
    }
}
