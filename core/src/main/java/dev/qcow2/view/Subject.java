package dev.qcow2.view;

import dev.qcow2.image.Qcow2Image;

/** What a view's title names: the image's file name (no directories, which would leak temporary paths into stored notebooks). */
final class Subject {
    private Subject() { }

    static String of(Qcow2Image img) {
        String d = img.describe();
        int slash = Math.max(d.lastIndexOf('/'), d.lastIndexOf('\\'));
        return slash < 0 ? d : d.substring(slash + 1);
    }
}
