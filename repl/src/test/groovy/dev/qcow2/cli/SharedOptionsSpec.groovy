package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * The options several commands share are one picocli mixin each ({@link OutputOption},
 * {@link FormatOption}, {@link ForceShareOption}, {@link QuietOption}, {@link ProgressOption},
 * {@link CacheOption}): the same names, values and messages in every command that has them.
 */
class SharedOptionsSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path img

    def setupSpec() {
        img = dir.resolve('a.qcow2')
        Qemu.img(['create', '-q', '-f', 'qcow2', img.toString(), '1M'])
    }

    def "#command rejects --output=xml with qemu-img's message"() {
        when:
        def r = Cli.run([command] + before + ['--output=xml', img])

        then:
        r.exit == 1
        r.out == ''
        r.err.readLines() == ["qcow2: Invalid value for option '--output': --output must be used with human or json as argument.",
                              "Try 'qcow2 $command --help' for more information."]

        where:
        command   | before
        'info'    | []
        'map'     | []
        'check'   | []
        'measure' | []
        'dump'    | ['header']
    }

    def "#command --output=json prints JSON on the command's stdout"() {
        when:
        def r = Cli.run([command] + before + ['--output=json', img])

        then:
        r.exit == 0
        r.err == ''
        r.json() != null

        where:
        command   | before
        'info'    | []
        'map'     | []
        'check'   | []
        'measure' | []
        'dump'    | ['header']
    }

    def "#args accepts -U and --force-share"() {
        expect:
        Cli.run(args.collect { it == 'IMG' ? img : it } + ['-U']).exit == 0
        Cli.run(args.collect { it == 'IMG' ? img : it } + ['--force-share']).exit == 0

        where:
        args << [['info', 'IMG'], ['map', 'IMG'], ['check', 'IMG'], ['measure', 'IMG'], ['compare', 'IMG', 'IMG'],
                 ['bench', '-c', '1', 'IMG'], ['snapshot', '-l', 'IMG']]
    }

    def "#command takes -f and --format and reports a driver it cannot read"() {
        when:
        def short_ = Cli.run([command, '-f', 'vmdk'] + rest + [img])
        def long_ = Cli.run([command, '--format=vmdk'] + rest + [img])

        then:
        short_.exit == long_.exit
        short_.exit != 0
        short_.err == long_.err
        short_.err.contains('vmdk')

        where:
        command | rest
        'info'  | []
        'map'   | []
        'bench' | ['-c', '1']
        'check' | []
    }

    def "#command -q and --quiet print nothing on stdout"() {
        given:
        Path copy = dir.resolve("q-${command}.qcow2")
        Qemu.img(['create', '-q', '-f', 'qcow2', copy.toString(), '1M'])

        expect:
        Cli.run([command] + args.collect { it == 'IMG' ? copy : it } + ['-q']).with { exit == 0 && out == '' }
        Cli.run([command] + args.collect { it == 'IMG' ? copy : it } + ['--quiet']).with { exit == 0 && out == '' }

        where:
        command    | args
        'compare'  | ['IMG', 'IMG']
        'resize'   | ['IMG', '+1M']
        'bench'    | ['-c', '1', 'IMG']
        'snapshot' | ['-c', 's', 'IMG']
    }

    def "#command checks -t like qemu-img: #message"() {
        when:
        def r = Cli.run([command, '-t', 'bogus'] + args.collect { it == 'IMG' ? img : it })

        then:
        r.exit == 1
        r.err.readLines()[0] == "qcow2: $message"

        where:
        command  | args              || message
        'commit' | ['IMG']           || 'Invalid cache option: bogus'
        'rebase' | ['-u', 'IMG']     || 'Invalid cache option: bogus'
        'bench'  | ['-c', '1', 'IMG'] || 'Invalid cache mode'
    }

    def "convert -p draws qemu-img's progress line on stdout, or on stderr when the image goes to stdout"() {
        given:
        Path raw = dir.resolve('p.raw')
        Qemu.io(img, 'write -P 0x5a 0 64k')

        when:
        def toFile = Cli.run('convert', '-p', '-O', 'raw', img, raw)
        def toStdout = Cli.run('convert', '-p', '-O', 'raw', img, '-')
        def quiet = Cli.run('convert', '-p', '-q', '-O', 'raw', img, raw)

        then:
        toFile.exit == 0
        toFile.out ==~ /(    \(\d+\.\d\d\/100%\)\r)+\n/
        toFile.out.endsWith('    (100.00/100%)\r\n')
        toFile.err == ''

        toStdout.exit == 0
        Sha256.of(toStdout.outBytes) == Sha256.of(raw)
        toStdout.err ==~ /(    \(\d+\.\d\d\/100%\)\r)+\n/

        quiet.exit == 0
        quiet.out == ''
    }
}
