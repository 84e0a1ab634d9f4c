package dev.roster.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG plots with JFreeChart, headless. Drawn by hand runs of the harness only, never in CI. */
final class Plots {
    private final Path dir;

    Plots(Path dir) {
        this.dir = dir;
        System.setProperty("java.awt.headless", "true");
    }

    /** Time series; the second and later series go on a second y axis when {@code dualAxis}. */
    void timeSeries(String file, String title, String xLabel, Series first, Series... more) {
        XYSeriesCollection a = new XYSeriesCollection(xy(first));
        JFreeChart chart = ChartFactory.createXYLineChart(
                title, xLabel, first.name(), a, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        for (int i = 0; i < more.length; i++) {
            plot.setDataset(i + 1, new XYSeriesCollection(xy(more[i])));
            org.jfree.chart.axis.NumberAxis axis = new org.jfree.chart.axis.NumberAxis(more[i].name());
            plot.setRangeAxis(i + 1, axis);
            plot.mapDatasetToRangeAxis(i + 1, i + 1);
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
            r.setSeriesPaint(0, i == 0 ? java.awt.Color.BLUE : java.awt.Color.GRAY);
            plot.setRenderer(i + 1, r);
        }
        save(file, chart);
    }

    /** Latency CDFs (x: latency in ms, log scale; y: percentile) of several histograms in nanoseconds. */
    void cdf(String file, String title, List<String> names, List<Histogram> histograms) {
        XYSeriesCollection c = new XYSeriesCollection();
        for (int i = 0; i < names.size(); i++) {
            XYSeries s = new XYSeries(names.get(i));
            Histogram h = histograms.get(i);
            if (h.getTotalCount() == 0) {
                continue;
            }
            for (double p :
                    new double[] {0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97, 98, 99, 99.5, 99.9, 99.99, 100
                    }) {
                double v = Math.max(1e-3, h.getValueAtPercentile(p) / 1e6);
                s.add(v, p);
            }
            c.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                title, "latency (ms, log scale)", "percentile", c, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogarithmicAxis x = new LogarithmicAxis("latency (ms, log scale)");
        x.setAllowNegativesFlag(false);
        plot.setDomainAxis(x);
        save(file, chart);
    }

    private static XYSeries xy(Series s) {
        XYSeries x = new XYSeries(s.name(), false, true);
        synchronized (s) {
            for (double[] p : s.points()) {
                x.add(p[0], p[1]);
            }
        }
        return x;
    }

    private void save(String file, JFreeChart chart) {
        try {
            Files.createDirectories(dir);
            ChartUtils.saveChartAsPNG(dir.resolve(file).toFile(), chart, 900, 500);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
