package dev.qcow2.crypto

import spock.lang.Specification

import java.util.Random

/**
 * Pbkdf2Chain (PBKDF2's iterations on the JDK's compression functions) gives the keys of the
 * HMAC path (MessageDigest clones, the path of a JVM without the add-opens): same derive for
 * every hash it takes, passwords longer than a block (hashed first) included.
 */
class Pbkdf2ChainSpec extends Specification {

    def "the test JVM opens sun.security.provider (pom argLine), so the fast chain is the one under test"() {
        expect:
        Pbkdf2Chain.available()
        Pbkdf2Chain.of(hash).isPresent() == fast

        where:
        hash                    | fast
        HashAlgorithm.SHA1      | true
        HashAlgorithm.SHA224    | true
        HashAlgorithm.SHA256    | true
        HashAlgorithm.SHA384    | true
        HashAlgorithm.SHA512    | true
        HashAlgorithm.MD5       | false
        HashAlgorithm.RIPEMD160 | false
    }

    def "#hash: #iterations iterations, password #passwordLength B, #length B out — chain equals HMAC"() {
        given:
        def random = new Random(hash.ordinal() * 1000 + iterations + passwordLength)
        byte[] password = new byte[passwordLength]; random.nextBytes(password)
        byte[] salt = new byte[32]; random.nextBytes(salt)

        expect:
        Pbkdf2.derive(hash, password, salt, iterations, length) == viaHmac(hash, password, salt, iterations, length)

        where:
        [hash, iterations, passwordLength, length] << [
                [HashAlgorithm.SHA1, HashAlgorithm.SHA224, HashAlgorithm.SHA256, HashAlgorithm.SHA384, HashAlgorithm.SHA512],
                [1, 2, 3, 1000],
                [0, 32, 200],
                [16, 32, 100]].combinations()
    }

    /** RFC 8018 §5.2 over Hmac only: the reference the chain is checked against. */
    static byte[] viaHmac(HashAlgorithm hash, byte[] password, byte[] salt, long iterations, int length) {
        Hmac mac = hash.hmac(password)
        int hLen = mac.length()
        byte[] out = new byte[length]
        for (int block = 1, done = 0; done < length; block++, done += hLen) {
            byte[] u = new byte[hLen]
            mac.update(salt, 0, salt.length)
            mac.update([block >>> 24, block >>> 16, block >>> 8, block] as byte[], 0, 4)
            mac.doFinal(u)
            byte[] t = u.clone()
            for (long i = 1; i < iterations; i++) {
                mac.update(u, 0, hLen)
                mac.doFinal(u)
                for (int j = 0; j < hLen; j++) t[j] ^= u[j]
            }
            System.arraycopy(t, 0, out, done, Math.min(hLen, length - done))
        }
        out
    }
}
