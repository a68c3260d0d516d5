package dev.qcow2.crypto;

/**
 * {@code qemu-img amend -o encrypt.state=…,encrypt.new-secret=…,encrypt.old-secret=…,encrypt.keyslot=…,encrypt.iter-time=…}
 * (QCryptoBlockAmendOptionsLUKS): activate a key slot with a new passphrase, or erase the slots
 * named by index or by the passphrase they hold. Null fields were not given.
 *
 * @param active      encrypt.state: active (add) or inactive (erase); null = missing
 */
public record KeySlotChange(Boolean active, String newSecretId, String oldSecretId, Integer keyslot, Long iterTimeMs) { }
