package dev.qcow2.crypto

import spock.lang.Specification

import java.security.SecureRandom

/** Published test vectors: RFC 6070 (PBKDF2-HMAC-SHA1), RFC 7914 §11 (PBKDF2-HMAC-SHA256), IEEE 1619 (XTS-AES). */
class KnownAnswerSpec extends Specification {

    static byte[] hex(String s) { s.decodeHex() }

    def "PBKDF2 #hash, #iterations iterations"() {
        expect:
        Pbkdf2.derive(hash, password.bytes, salt.bytes, iterations, expected.length() / 2 as int).encodeHex().toString() == expected

        where:
        hash                   | password   | salt   | iterations | expected
        HashAlgorithm.SHA1     | 'password' | 'salt' | 1          | '0c60c80f961f0e71f3a9b524af6012062fe037a6'
        HashAlgorithm.SHA1     | 'password' | 'salt' | 2          | 'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957'
        HashAlgorithm.SHA1     | 'password' | 'salt' | 4096       | '4b007901b765489abead49d926f721d065a429c1'
        HashAlgorithm.SHA1     | 'passwordPASSWORDpassword' | 'saltSALTsaltSALTsaltSALTsaltSALTsalt' | 4096 | '3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038'
        HashAlgorithm.SHA256   | 'passwd'   | 'salt' | 1          | '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783'
    }

    def "XTS-AES-128 IEEE 1619 vector #n"() {
        given:
        def c = new SectorCipher(CipherAlgorithm.AES_128, CipherMode.XTS, IvGenerator.PLAIN64, null, hex(key), true)
        def buf = hex(plain)

        when:
        c.encryptSectors(sector, buf, 0, buf.length)
        then:
        buf.encodeHex().toString() == cipher

        when:
        c.decryptSectors(sector, buf, 0, buf.length)
        then:
        buf.encodeHex().toString() == plain

        where:
        n | key                                                                | sector       | plain                                                              | cipher
        1 | '0' * 64                                                           | 0            | '0' * 64                                                           | '917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e'
        2 | '11' * 16 + '22' * 16                                              | 0x3333333333 | '44' * 32                                                          | 'c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0'
        3 | 'fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0' + '22' * 16                     | 0x3333333333 | '44' * 32                                                          | 'af85336b597afc1a900b2eb21ec949d292df4c047e0b21532186a5971a227a89'
    }

    def "anti-forensic split then merge gives the key back (#hash, #length bytes)"() {
        given:
        def key = new byte[length]
        new SecureRandom().nextBytes(key)

        expect:
        AntiForensic.merge(hash, length, 4000, AntiForensic.split(hash, 4000, key, new SecureRandom())) == key

        where:
        hash                    | length
        HashAlgorithm.SHA256    | 64
        HashAlgorithm.SHA1      | 32
        HashAlgorithm.RIPEMD160 | 48
        HashAlgorithm.SHA512    | 16
    }

    def "large requests spread over all cores give the same bytes as one sector at a time"() {
        given:
        def key = new byte[64]
        new SecureRandom().nextBytes(key)
        def c = new SectorCipher(CipherAlgorithm.AES_256, CipherMode.XTS, IvGenerator.PLAIN64, null, key, true)
        def data = new byte[1 << 20]
        new Random(7).nextBytes(data)
        def whole = data.clone()
        def bySector = data.clone()

        when:
        c.encrypt(1 << 30, whole, 0, whole.length)
        for (int i = 0; i < bySector.length; i += 512) c.encrypt((1 << 30) + i, bySector, i, 512)
        then:
        whole == bySector
        whole != data

        when:
        c.decrypt(1 << 30, whole, 0, whole.length)
        then:
        whole == data
    }

    def "a secret never shows its bytes"() {
        given:
        def s = Secret.ofString('hunter2')

        expect:
        !s.toString().contains('hunter2')

        when:
        s.close()
        s.bytes()
        then:
        thrown(IllegalStateException)
    }
}
