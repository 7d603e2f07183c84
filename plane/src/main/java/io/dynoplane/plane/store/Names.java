package io.dynoplane.plane.store;

import java.util.regex.Pattern;

/** The rules for names and values the store accepts; each error names the input. */
final class Names {
    /** As DynoSpec's: it becomes part of namespace and file names. */
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,29}");
    /** As Procfile's, lower-cased. */
    private static final Pattern PROCESS_TYPE = Pattern.compile("[a-z0-9_-]{1,30}");
    private static final Pattern CONFIG_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private Names() {}

    static String app(String name) { return name("app", name); }

    static String space(String name) { return name("space", name); }

    private static String name(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw StoreException.invalid("bad " + what + " name '" + name + "': use 1-30 of a-z, 0-9 and '-', starting with a letter");
        }
        return name;
    }

    static String processType(String type) {
        if (type == null || !PROCESS_TYPE.matcher(type).matches()) {
            throw StoreException.invalid("bad process type '" + type + "': use 1-30 of a-z, 0-9, '_' and '-'");
        }
        return type;
    }

    static String configKey(String key) {
        if (key == null || !CONFIG_KEY.matcher(key).matches()) {
            throw StoreException.invalid("bad config var name '" + key + "': use letters, digits and '_', not starting with a digit");
        }
        return key;
    }

    /** The one set of drain URL rules is the drains' own ({@link io.dynoplane.plane.logs.LogDrains#check}). */
    static String drainUrl(String url) {
        try {
            io.dynoplane.plane.logs.LogDrains.check(url);
            return url;
        } catch (IllegalArgumentException e) {
            throw StoreException.invalid(e.getMessage());
        }
    }

    static String cidr(String cidr) {
        try {
            return io.dynoplane.provisioner.IsolationPlane.requireCidr(cidr);
        } catch (RuntimeException e) {
            throw StoreException.invalid("bad CIDR '" + cidr + "': expected A.B.C.D/N");
        }
    }
}
