package dev.qcow2.scan

import groovy.json.JsonSlurper
import spock.lang.Specification

/** The image-scan record's JSON line, its exit-status order, and the hash option's parsing. */
class ScanRecordSpec extends Specification {

    def "JsonLine writes #value as #json (parsable, control characters escaped)"() {
        expect:
        JsonLine.of(value) == json
        new JsonSlurper().parseText("[${json}]")[0] == value

        where:
        value                                  | json
        'a"b\\c\n\t\u0001'                     | '"a\\"b\\\\c\\n\\t\\u0001"'
        [a: 1L, b: [true, null], c: 'x']       | '{"a":1,"b":[true,null],"c":"x"}'
        -5                                     | '-5'
        []                                     | '[]'
    }

    def "worse(#a, #b) == #worst: failures over corruptions over leaks over clean"() {
        expect:
        ScanRecord.worse(a, b) == worst
        ScanRecord.worse(b, a) == worst

        where:
        a | b || worst
        0 | 3 || 3
        3 | 2 || 2
        2 | 1 || 1
        0 | 0 || 0
        1 | 3 || 1
    }

    def "a failed record keeps every field, null, type first, in the documented order"() {
        when:
        def json = new JsonSlurper().parseText(ScanRecord.failed('/x.qcow2', 'boom', 7).jsonLine()) as Map

        then:
        json.keySet() as List == ['type', 'path', 'file_size', 'format', 'virtual_size', 'cluster_size', 'compat', 'features',
                                  'encryption', 'compression_type', 'backing', 'snapshots', 'check', 'leaked_clusters',
                                  'unreferenced_clusters', 'hashes', 'error', 'scan_ms']
        json.type == 'image-scan'
        json.error == 'boom'
        json.scan_ms == 7
        ScanRecord.failed('/x', 'e', 0).exitCode() == 1
    }

    def "parseAlgorithms('#text') == #algorithms"() {
        expect:
        ScanOptions.parseAlgorithms(text) == algorithms

        where:
        text                 | algorithms
        'sha256'             | ['sha256']
        'SHA-256, md5,sha256' | ['sha256', 'md5']
        'sha1,sha512'        | ['sha1', 'sha512']
    }

    def "parseAlgorithms refuses '#text'"() {
        when:
        ScanOptions.parseAlgorithms(text)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains(message)

        where:
        text      | message
        'crc32'   | "unknown hash algorithm 'crc32'"
        ','       | 'no hash algorithm given'
    }

    def "GuestHasher digests a reader in chunks as one MessageDigest over the whole does"() {
        given:
        byte[] data = new byte[GuestHasher.CHUNK * 2 + 12345]
        new Random(7).nextBytes(data)

        when:
        def h = GuestHasher.hash(data.length, { long off, byte[] buf, int len -> System.arraycopy(data, (int) off, buf, 0, len) } as GuestHasher.Reader, ['sha256', 'md5'])

        then:
        h.sha256 == java.security.MessageDigest.getInstance('SHA-256').digest(data).encodeHex().toString()
        h.md5 == java.security.MessageDigest.getInstance('MD5').digest(data).encodeHex().toString()
        h.keySet() as List == ['sha256', 'md5']
    }
}
