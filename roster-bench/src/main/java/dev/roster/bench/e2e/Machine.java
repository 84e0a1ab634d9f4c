package dev.roster.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the figures were measured on, and how loaded the machine was at that moment. */
final class Machine {
    private Machine() {}

    /** The 1-, 5- and 15-minute load averages, e.g. {@code "2.41 / 3.02 / 3.10"}. */
    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    static String describe() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // keep the default
        }
        Runtime rt = Runtime.getRuntime();
        return rt.availableProcessors() + " cores (" + cpu + "), " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + ", JDK " + System.getProperty("java.version") + " ("
                + System.getProperty("java.vendor") + "), max heap " + (rt.maxMemory() >> 20) + " MB";
    }
}
