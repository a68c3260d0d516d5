package dev.qcow2.units

import spock.lang.Specification

/** ExactDecimal renders doubles as glibc's printf does: checked against printf itself. */
class ExactDecimalSpec extends Specification {

    def "general(x, 3) is printf's %.3g"() {
        expect:
        ExactDecimal.general(x, 3) == text

        where:
        x                   || text
        0d                  || '0'
        1d                  || '1'
        64d                 || '64'
        1.5d                || '1.5'
        999.5d              || '1e+03'
        999.4d              || '999'
        1023.99d            || '1.02e+03'
        0.0001234d          || '0.000123'
        0.00001234d         || '1.23e-05'
        2.675d              || '2.67'       // the double is 2.67499999...: no tie
        0.125d              || '0.125'
        0.1255d             || '0.126'      // 0.12550000000000000266...
        12.25d              || '12.2'       // an exact tie: to even
        12.35d              || '12.3'       // 12.3499999...
        -5.5d               || '-5.5'
        1e300d              || '1e+300'
        Double.MIN_VALUE    || '4.94e-324'
    }

    def "fixed(x, n) is printf's %.nf"() {
        expect:
        ExactDecimal.fixed(x, n) == text

        where:
        x          | n || text
        0d         | 3 || '0.000'
        0.0005d    | 3 || '0.001'       // 0.000500000000000000010...
        0.0625d    | 3 || '0.062'       // exact tie: to even
        0.1875d    | 3 || '0.188'
        2.5d       | 0 || '2'
        3.5d       | 0 || '4'
        1234.5678d | 2 || '1234.57'
        -0.001d    | 2 || '-0.00'
        12d        | 2 || '12.00'
    }

    def "non-finite values are spelled as glibc spells them"() {
        expect:
        ExactDecimal.general(Double.POSITIVE_INFINITY, 3) == 'inf'
        ExactDecimal.general(Double.NEGATIVE_INFINITY, 3) == '-inf'
        ExactDecimal.fixed(Double.NaN, 2) == 'nan'
    }

    def "random doubles: the same text as coreutils printf (glibc)"() {
        given: 'doubles over many magnitudes, and their exact decimal expansions for printf'
        def random = new Random(20261206)
        List<Double> xs = (1..400).collect {
            double m = random.nextDouble() * 10
            Math.scalb(m, random.nextInt(40) - 20) * (random.nextBoolean() ? 1 : -1)
        } + (1..100).collect { (double) (random.nextInt(4096) / 16d) }   // many exact ties
        List<String> exact = xs.collect { new BigDecimal(it).toPlainString() }

        when: 'printf formats the exact values (strtold reads each back as the same double)'
        def out = new ByteArrayOutputStream()
        def proc = (['printf', '%.3g\\n%.3f\\n'] + exact.collectMany { [it, it] }).execute()
        proc.waitForProcessOutput(out, System.err)   // waits for the output too, not only the exit
        List<String> printed = out.toString().readLines()

        then:
        proc.exitValue() == 0
        printed.size() == 2 * xs.size()
        xs.eachWithIndex { double x, int i ->
            assert ExactDecimal.general(x, 3) == printed[2 * i]: "%.3g of $x"
            assert ExactDecimal.fixed(x, 3) == printed[2 * i + 1]: "%.3f of $x"
        }
    }
}
