package dev.qcow2.crypto;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The secret objects given on a command line ({@code --object secret,id=ID,data=…|file=…}) or by a
 * front end, by id: what {@code encrypt.key-secret=ID} (create, amend, image options) and
 * {@code encrypt.new-secret=ID} (amend) name. Closing closes every secret.
 */
public final class SecretObjects implements AutoCloseable {
    private final Map<String, Secret> byId;

    public SecretObjects(Map<String, Secret> byId) { this.byId = new LinkedHashMap<>(byId); }

    public static SecretObjects none() { return new SecretObjects(Map.of()); }

    public Optional<Secret> byId(String id) { return Optional.ofNullable(byId.get(id)); }

    public Map<String, Secret> asMap() { return Map.copyOf(byId); }

    @Override public void close() { byId.values().forEach(Secret::close); }

    @Override public String toString() { return "SecretObjects" + byId.keySet(); }
}
