package dev.roster.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The markdown report: one section per scenario, each with its table, command, load and notes. */
final class Report {
    private final List<String> sections = new ArrayList<>();
    private final StringBuilder header = new StringBuilder();
    private final List<String> loads = new ArrayList<>();
    private String stores;

    /** Records the load average read at the start and at the end of one scenario. */
    void load(String scenario, String atStart, String atEnd) {
        loads.add("| " + scenario + " | " + atStart + " | " + atEnd + " |");
    }

    /** What the stores reported about themselves (the first description given is kept). */
    void stores(String description) {
        if (stores == null && description != null) {
            stores = description;
        }
    }

    void header(String text) {
        header.append(text).append('\n');
    }

    Section section(String title) {
        Section s = new Section(title);
        return s;
    }

    void add(Section s) {
        sections.add(s.render());
        System.out.println();
        System.out.println(s.render());
        System.out.flush();
    }

    void write(Path file) {
        StringBuilder sb = new StringBuilder(header);
        if (stores != null) {
            sb.append("Stores, as the first scenario's pair reported them: ")
                    .append(stores)
                    .append(". Each scenario starts its own pair on loopback, with throw-away data.\n\n");
        }
        if (!loads.isEmpty()) {
            sb.append("Load average (1/5/15 min, `/proc/loadavg`) read when each scenario started and ended."
                            + " The harness does not record which other processes ran; the load average is all it"
                            + " saw of them.\n\n")
                    .append("| scenario | load at start | load at end |\n|---|---:|---:|\n");
            for (String l : loads) {
                sb.append(l).append('\n');
            }
        }
        for (String s : sections) {
            sb.append('\n').append(s);
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }

    /** A thousands-separated integer. */
    static String n(double v) {
        return String.format(Locale.ROOT, "%,d", Math.round(v));
    }

    static String ms(double nanos) {
        double m = nanos / 1e6;
        return m >= 100 ? f("%.0f ms", m) : m >= 10 ? f("%.1f ms", m) : f("%.2f ms", m);
    }

    static String us(double nanos) {
        double u = nanos / 1e3;
        return u >= 1000 ? ms(nanos) : u >= 10 ? f("%.0f µs", u) : f("%.1f µs", u);
    }

    static final class Section {
        private final String title;
        private final List<String> lines = new ArrayList<>();
        private final List<String> after = new ArrayList<>();
        private String command;
        private String goal;

        Section(String title) {
            this.title = title;
        }

        Section goal(String g) {
            this.goal = g;
            return this;
        }

        Section command(String c) {
            this.command = c;
            return this;
        }

        Section table(String... headers) {
            lines.add("| " + String.join(" | ", headers) + " |");
            StringBuilder sep = new StringBuilder("|");
            for (int i = 0; i < headers.length; i++) {
                sep.append(i == 0 ? "---|" : "---:|");
            }
            lines.add(sep.toString());
            return this;
        }

        Section row(Object... cells) {
            StringBuilder sb = new StringBuilder("|");
            for (Object c : cells) {
                sb.append(' ').append(c).append(" |");
            }
            lines.add(sb.toString());
            return this;
        }

        Section note(String text) {
            after.add(text);
            return this;
        }

        String render() {
            StringBuilder sb = new StringBuilder("## ").append(title).append("\n\n");
            if (goal != null) {
                sb.append("**Goal.** ").append(goal).append("\n\n");
            }
            if (command != null) {
                sb.append("Command: `").append(command).append("`\n\n");
            }
            for (String l : lines) {
                sb.append(l).append('\n');
            }
            for (String a : after) {
                sb.append('\n').append(a).append('\n');
            }
            return sb.toString();
        }
    }
}
