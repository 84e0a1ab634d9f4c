package dev.roster.bench.e2e;

import java.util.ArrayList;
import java.util.List;

/** A named time series for a plot: x in seconds since the scenario's start. */
record Series(String name, List<double[]> points) {
    Series(String name) {
        this(name, new ArrayList<>());
    }

    synchronized void add(double x, double y) {
        points.add(new double[] {x, y});
    }
}
