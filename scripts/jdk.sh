# Sourced by ./roster and .ci/run: picks a JDK >= 21 and sets ROSTER_JAVA_HOME and ROSTER_JVM_FLAGS.
# Order: $JAVA_HOME, then the usual install folders (newest first), then `java` on the PATH.

roster_java_major() { # $1 = java home; prints the feature version or nothing
  local rel="$1/release" v
  if [ -r "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel" | head -n 1)
  fi
  if [ -z "${v:-}" ] && [ -x "$1/bin/java" ]; then
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  [ "${v:-}" = "1" ] && v=8
  printf '%s' "${v:-}"
}

roster_find_jdk() {
  local best="" best_v=0 cand v
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(roster_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then ROSTER_JAVA_HOME="$JAVA_HOME"; return 0; fi
  fi
  for cand in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /usr/local/jdk* /usr/local/java/* \
              "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    v=$(roster_java_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best="$cand"; best_v="$v"; fi
  done
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    cand=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(roster_java_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then best="$cand"; fi
  fi
  [ -n "$best" ] || return 1
  ROSTER_JAVA_HOME="$best"
}

roster_select_jdk() {
  if ! roster_find_jdk; then
    echo "roster: no JDK 21 or newer found (looked at JAVA_HOME, /usr/lib/jvm, /opt/java, ~/.sdkman); install one, e.g. apt-get install openjdk-21-jdk" >&2
    return 1
  fi
  local v
  v=$(roster_java_major "$ROSTER_JAVA_HOME")
  ROSTER_JVM_FLAGS=""
  # JDK 24+ warns about Netty's and Maven's use of sun.misc.Unsafe and native access; JDK 21 rejects the flags.
  if [ "$v" -ge 24 ]; then
    ROSTER_JVM_FLAGS="--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
  fi
  export JAVA_HOME="$ROSTER_JAVA_HOME"
  export MAVEN_OPTS="${MAVEN_OPTS:-} $ROSTER_JVM_FLAGS"
}
