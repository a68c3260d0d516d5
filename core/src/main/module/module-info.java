/**
 * The qcow2 format library. Exports the API packages; {@code alloc} and {@code codec} are internal.
 */
module dev.qcow2.core {
    requires aircompressor;
    requires org.bouncycastle.provider;
    exports dev.qcow2;
    exports dev.qcow2.amend;
    exports dev.qcow2.chain;
    exports dev.qcow2.convert;
    exports dev.qcow2.check;
    exports dev.qcow2.create;
    exports dev.qcow2.crypto;
    exports dev.qcow2.format;
    exports dev.qcow2.image;
    exports dev.qcow2.mapping;
    exports dev.qcow2.refcount;
    exports dev.qcow2.repair;
    exports dev.qcow2.resize;
    exports dev.qcow2.snapshot;
    exports dev.qcow2.storage;
    exports dev.qcow2.units;
    exports dev.qcow2.view;
    exports dev.qcow2.walk;
    exports dev.qcow2.write;
}
