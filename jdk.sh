# jdk.sh - sourced by ./qcow2, .ci/run and notebooks/install-kernel.sh: finds the JDK the
# project runs on (Java 25 or newer; the build's own choice is maven-toolchains-plugin's).
#
#   find_jdk   prints JAVA_HOME when it is a JDK >= QCOW2_MIN_JAVA, else the newest such JDK
#              under /usr/lib/jvm, else the JDK of `java` on PATH when it is one; fails if none.
# A JDK's major version is read from its `release` file (no JVM is started).
QCOW2_MIN_JAVA=25
QCOW2_NO_JDK_MESSAGE="no JDK $QCOW2_MIN_JAVA or newer found (JAVA_HOME, /usr/lib/jvm/*, java on PATH): install one, e.g. Temurin 25 (temurin-25-jdk), or set JAVA_HOME to it"

# Bash builtins only (no sed, no subshell): the launcher runs this on every start, where each
# fork costs milliseconds.
jdk_major() {   # jdk_major JDKDIR -> sets JDK_MAJOR to the major version of the JDK there
    local line
    JDK_MAJOR=''
    [[ -x $1/bin/java && -f $1/release ]] || return 1
    while IFS= read -r line; do
        if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then JDK_MAJOR=${BASH_REMATCH[1]}; return 0; fi
    done < "$1/release"
    return 1
}

find_jdk_var() {   # like find_jdk, but sets FOUND_JDK instead of printing (no subshell)
    local d best='' bestv=0 p
    FOUND_JDK=''
    if [[ -n ${JAVA_HOME-} ]] && jdk_major "$JAVA_HOME" && ((JDK_MAJOR >= QCOW2_MIN_JAVA)); then
        FOUND_JDK=$JAVA_HOME; return 0
    fi
    for d in /usr/lib/jvm/*/; do
        d=${d%/}
        [[ -L $d ]] && continue     # Debian's aliases (java-1.17.0-openjdk-amd64 -> ...)
        jdk_major "$d" || continue
        ((JDK_MAJOR >= QCOW2_MIN_JAVA && JDK_MAJOR > bestv)) && best=$d bestv=$JDK_MAJOR
    done
    if [[ -z $best ]] && p=$(type -P java); then
        p=$(readlink -f -- "$p") && d=${p%/bin/java} && jdk_major "$d" && ((JDK_MAJOR >= QCOW2_MIN_JAVA)) && best=$d
    fi
    FOUND_JDK=$best
    [[ -n $best ]]
}

find_jdk() {
    find_jdk_var && printf '%s' "$FOUND_JDK"
}
