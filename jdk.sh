# jdk.sh - sourced by ./qcow2, .ci/run and notebooks/install-kernel.sh: finds the JDK the
# project runs on (Java 25 or newer; the build's own choice is maven-toolchains-plugin's).
#
#   find_jdk   prints JAVA_HOME when it is a JDK >= QCOW2_MIN_JAVA, else the newest such JDK
#              under /usr/lib/jvm, else the JDK of `java` on PATH when it is one; fails if none.
# A JDK's major version is read from its `release` file (no JVM is started).
QCOW2_MIN_JAVA=25
QCOW2_NO_JDK_MESSAGE="no JDK $QCOW2_MIN_JAVA or newer found (JAVA_HOME, /usr/lib/jvm/*, java on PATH): install one, e.g. Temurin 25 (temurin-25-jdk), or set JAVA_HOME to it"

jdk_major() {   # jdk_major JDKDIR -> the major version of the JDK there
    local v
    [[ -x $1/bin/java && -f $1/release ]] || return 1
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' -- "$1/release" 2>/dev/null)
    [[ -n $v ]] && printf '%s' "$v"
}

find_jdk() {
    local d v best='' bestv=0 p
    if [[ -n ${JAVA_HOME-} ]]; then
        v=$(jdk_major "$JAVA_HOME") && ((v >= QCOW2_MIN_JAVA)) && { printf '%s' "$JAVA_HOME"; return 0; }
    fi
    for d in /usr/lib/jvm/*/; do
        d=${d%/}
        [[ -L $d ]] && continue     # Debian's aliases (java-1.17.0-openjdk-amd64 -> ...)
        v=$(jdk_major "$d") || continue
        ((v >= QCOW2_MIN_JAVA && v > bestv)) && best=$d bestv=$v
    done
    if [[ -z $best ]] && p=$(type -P java); then
        p=$(readlink -f -- "$p") && d=${p%/bin/java} && v=$(jdk_major "$d") && ((v >= QCOW2_MIN_JAVA)) && best=$d
    fi
    [[ -n $best ]] && printf '%s' "$best"
}
