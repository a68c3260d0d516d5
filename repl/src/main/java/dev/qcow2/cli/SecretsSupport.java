package dev.qcow2.cli;

/**
 * Where a command cannot hand the operand's secrets to the library yet: the core operation
 * opens the chain itself ({@code chain.Commit}, {@code chain.Rebase} take a path, not open
 * options). Such a command refuses secrets with one clear line rather than run without them
 * and fail deep inside (or, worse, write plaintext into an encrypted image).
 */
final class SecretsSupport {
    private SecretsSupport() { }

    static void refuseUntilCoreTakesSecrets(ImageArg image, String command) {
        if (image.hasSecrets()) {
            throw new Errors.CliException("Could not open '" + image.operand() + "': " + command
                    + " does not support encrypted images yet (encrypt.key-secret given)");
        }
    }
}
