# Sourced by ./roster: one launcher build at a time per clone. Several launchers started together (three
# instances on one machine, in a fresh clone) would otherwise each run ./mvnw package in the same
# target/ folders and break each other's class files; with the lock the first builds and the others
# wait, then find the jar fresh and build nothing (decision C3).

ROSTER_LOCK_DIR="$ROOT/.roster"
ROSTER_LOCK_FILE="$ROSTER_LOCK_DIR/build.lock"

# Takes the lock; prints once to stderr when another launcher holds it.
roster_lock() {
  mkdir -p "$ROSTER_LOCK_DIR"
  if command -v flock >/dev/null 2>&1; then
    # The kernel drops a flock when its holder dies, so a killed build never leaves the lock behind.
    exec 9>"$ROSTER_LOCK_FILE"
    if ! flock -n 9; then
      echo "roster: waiting for another launcher's build to finish ($ROSTER_LOCK_FILE)..." >&2
      flock 9
    fi
    return 0
  fi
  # No flock (macOS): a lock folder holding the owner's pid; one whose owner is gone is taken over.
  local said=""
  until mkdir "$ROSTER_LOCK_FILE.d" 2>/dev/null; do
    local owner
    owner=$(cat "$ROSTER_LOCK_FILE.d/pid" 2>/dev/null || true)
    if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
      rm -rf "$ROSTER_LOCK_FILE.d"
      continue
    fi
    if [ -z "$said" ]; then
      echo "roster: waiting for another launcher's build to finish ($ROSTER_LOCK_FILE.d)..." >&2
      said=1
    fi
    sleep 1
  done
  echo $$ >"$ROSTER_LOCK_FILE.d/pid"
}

# Releases the lock, so the program the launcher runs next does not hold it for its lifetime.
roster_unlock() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>&-
  else
    rm -rf "$ROSTER_LOCK_FILE.d"
  fi
}
