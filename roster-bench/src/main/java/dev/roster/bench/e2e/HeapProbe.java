package dev.roster.bench.e2e;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ListenerNotFoundException;
import javax.management.MBeanServer;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;

/**
 * Heap figures of this JVM: heap used after a full collection, the largest heap left after any
 * collection while a probe is open (what survived: an upper bound of the live set at that moment),
 * and lines of the class histogram ({@code jcmd GC.class_histogram}, taken in-process).
 */
final class HeapProbe implements AutoCloseable {
    private final AtomicLong maxAfterGc = new AtomicLong();
    private final AtomicLong collections = new AtomicLong();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = this::onGc;

    /** Starts listening to every collector's notifications. */
    HeapProbe() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter e) {
                e.addNotificationListener(listener, null, null);
                emitters.add(e);
            }
        }
    }

    private void onGc(Notification n, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            return;
        }
        GarbageCollectionNotificationInfo info =
                GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        long used = 0;
        for (Map.Entry<String, MemoryUsage> e :
                info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            if (isHeapPool(e.getKey())) {
                used += e.getValue().getUsed();
            }
        }
        collections.incrementAndGet();
        maxAfterGc.accumulateAndGet(used, Math::max);
    }

    private static boolean isHeapPool(String name) {
        for (var p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getName().equals(name)) {
                return p.getType() == java.lang.management.MemoryType.HEAP;
            }
        }
        return false;
    }

    /** The largest heap in use right after a collection since this probe opened (0 if none ran). */
    long maxAfterGc() {
        return maxAfterGc.get();
    }

    /** Collections seen since this probe opened. */
    long collections() {
        return collections.get();
    }

    @Override
    public void close() {
        for (NotificationEmitter e : emitters) {
            try {
                e.removeNotificationListener(listener);
            } catch (ListenerNotFoundException notThere) {
                // added in the constructor; nothing to remove means nothing listens
            }
        }
    }

    /** Heap in use after full collections, once the figure has settled (three in a row within 1 %). */
    static long usedAfterFullGc() {
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            if (Math.abs(used - last) <= last / 100) {
                return used;
            }
            last = used;
        }
        return last;
    }

    /** One class's line of the class histogram: instances and bytes, or zeros when it has none. */
    record ClassLine(long instances, long bytes) {}

    /**
     * The class histogram as the {@code DiagnosticCommand} MBean prints it ({@code GC.class_histogram},
     * which collects first), reduced to the lines of classes whose name starts with one of {@code
     * prefixes}, plus the total.
     */
    static Map<String, ClassLine> histogram(List<String> prefixes) {
        String text;
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            text = (String) server.invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "gcClassHistogram",
                    new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
        } catch (Exception e) {
            throw new IllegalStateException("class histogram not available: " + e.getMessage(), e);
        }
        Map<String, ClassLine> out = new java.util.TreeMap<>();
        for (String line : text.split("\\R")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && "Total".equals(f[0])) {
                out.put("Total", new ClassLine(Long.parseLong(f[1]), Long.parseLong(f[2])));
            } else if (f.length >= 4 && f[0].endsWith(":")) {
                String cls = f[3];
                for (String p : prefixes) {
                    if (cls.startsWith(p)) {
                        out.put(cls, new ClassLine(Long.parseLong(f[1]), Long.parseLong(f[2])));
                    }
                }
            }
        }
        return out;
    }
}
