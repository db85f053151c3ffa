#include "dendrite/io/svg_chart.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

#include "dendrite/io/atomic_file.hpp"
#include "svg_draw.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

namespace {

using svg::axis;
using svg::escape;
using svg::fmt;
using svg::svg_document_start;

constexpr const char* train_colour = "#1f77b4";
constexpr const char* val_colour = "#e8590c";

/// One panel: frame, grid, ticks, axis labels and curves, with the plot area at (x0, y0, w, h).
void draw_panel(std::string& svg, const chart_panel& p, double x0, double y0, double w, double h) {
    double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
    double vmin = xmin, vmax = -xmin;
    for (const chart_curve& c : p.curves) {
        if (c.x.size() != c.y.size())
            throw std::invalid_argument("line chart: curve '" + c.label + "' has " +
                                        std::to_string(c.x.size()) + " x values and " +
                                        std::to_string(c.y.size()) + " y values");
        for (std::size_t i = 0; i < c.x.size(); ++i) {
            if (!std::isfinite(c.y[i]) || !std::isfinite(c.x[i])) continue;
            vmin = std::min(vmin, c.y[i]);
            vmax = std::max(vmax, c.y[i]);
            xmin = std::min(xmin, c.x[i]);
            xmax = std::max(xmax, c.x[i]);
        }
    }
    const bool empty = !std::isfinite(vmin);
    if (empty)
        xmin = 0, xmax = 1, vmin = std::isfinite(p.y_min) ? p.y_min : 0,
        vmax = std::isfinite(p.y_max) ? p.y_max : 1;
    const axis ex = axis::nice(xmin, xmax, 8, p.integer_x);
    axis ey = axis::nice(std::max(vmin, p.y_min), std::min(vmax, p.y_max), 6);
    ey.lo = std::max(ey.lo, p.y_min);
    ey.hi = std::min(ey.hi, p.y_max);
    auto px = [&](double e) { return x0 + (e - ex.lo) / (ex.hi - ex.lo) * w; };
    auto py = [&](double v) { return y0 + h - (v - ey.lo) / (ey.hi - ey.lo) * h; };

    svg += "<g>\n<text x=\"" + fmt(x0) + "\" y=\"" + fmt(y0 - 12) +
           "\" font-size=\"15\" font-weight=\"600\" fill=\"#222\">" + escape(p.title) + "</text>\n";
    // Grid and tick labels.
    for (double t : ey.ticks()) {
        if (t < ey.lo - 1e-12 || t > ey.hi + 1e-12) continue;
        const std::string y = fmt(py(t));
        svg += "<line x1=\"" + fmt(x0) + "\" y1=\"" + y + "\" x2=\"" + fmt(x0 + w) + "\" y2=\"" +
               y + "\" stroke=\"#e6e6e6\"/>\n";
        svg += "<line x1=\"" + fmt(x0 - 5) + "\" y1=\"" + y + "\" x2=\"" + fmt(x0) + "\" y2=\"" +
               y + "\" stroke=\"#444\"/>\n";
        svg += "<text x=\"" + fmt(x0 - 8) + "\" y=\"" + fmt(py(t) + 4) + "\" text-anchor=\"end\">" +
               fmt(t, ey.decimals) + "</text>\n";
    }
    for (double t : ex.ticks()) {
        const std::string x = fmt(px(t));
        svg += "<line x1=\"" + x + "\" y1=\"" + fmt(y0) + "\" x2=\"" + x + "\" y2=\"" +
               fmt(y0 + h) + "\" stroke=\"#f0f0f0\"/>\n";
        svg += "<line x1=\"" + x + "\" y1=\"" + fmt(y0 + h) + "\" x2=\"" + x + "\" y2=\"" +
               fmt(y0 + h + 5) + "\" stroke=\"#444\"/>\n";
        svg += "<text x=\"" + x + "\" y=\"" + fmt(y0 + h + 19) + "\" text-anchor=\"middle\">" +
               fmt(t, p.integer_x ? 0 : ex.decimals) + "</text>\n";
    }
    svg += "<rect x=\"" + fmt(x0) + "\" y=\"" + fmt(y0) + "\" width=\"" + fmt(w) + "\" height=\"" +
           fmt(h) + "\" fill=\"none\" stroke=\"#444\"/>\n";
    svg += "<text x=\"" + fmt(x0 + w / 2) + "\" y=\"" + fmt(y0 + h + 40) +
           "\" text-anchor=\"middle\">" + escape(p.x_label) + "</text>\n";
    svg += "<text transform=\"translate(" + fmt(x0 - 50) + " " + fmt(y0 + h / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">" + escape(p.y_label) + "</text>\n";
    if (empty)
        svg += "<text x=\"" + fmt(x0 + w / 2) + "\" y=\"" + fmt(y0 + h / 2) +
               "\" text-anchor=\"middle\" fill=\"#999\">no data</text>\n";

    // Curves: a NaN (not measured) breaks the line; markers carry the values as tooltips.
    for (const chart_curve& c : p.curves) {
        std::string d;
        bool pen_down = false;
        std::string dots;
        for (std::size_t i = 0; i < c.x.size(); ++i) {
            const double v = c.y[i];
            if (!std::isfinite(v) || !std::isfinite(c.x[i])) {
                pen_down = false;
                continue;
            }
            const double cx = px(c.x[i]), cy = py(std::clamp(v, ey.lo, ey.hi));
            d += (pen_down ? " L" : " M") + fmt(cx) + " " + fmt(cy);
            pen_down = true;
            if (c.markers)
                dots += "<circle cx=\"" + fmt(cx) + "\" cy=\"" + fmt(cy) + "\" r=\"3\" fill=\"" +
                        c.colour + "\"><title>" + escape(c.label) + ", " + escape(p.x_label) + " " +
                        fmt(c.x[i], p.integer_x ? 0 : 3) + ": " + fmt(v, 4) + "</title></circle>\n";
        }
        if (d.empty()) continue;
        svg += "<path d=\"" + d.substr(1) + "\" fill=\"none\" stroke=\"" + c.colour +
               "\" stroke-width=\"2.2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" +
               (c.dashed ? " stroke-dasharray=\"7 4\"" : "") + "/>\n" + dots;
    }
    svg += "</g>\n";
}

}  // namespace

std::string line_chart_svg(const line_chart& chart) {
    const svg::panel_layout l(chart.width, chart.height, 200, chart.panels.size(), 84, 56, 70, 80,
                              24);
    std::string svg = svg_document_start(l.width, l.height, chart.title);

    // Legend, centred under the title, 120 px per entry.
    if (!chart.legend.empty()) {
        const double ly = 50;
        double lx = l.width / 2 - 60 * static_cast<double>(chart.legend.size()) + 10;
        svg += "<g>\n";
        for (const legend_entry& e : chart.legend) {
            svg += "<line x1=\"" + fmt(lx) + "\" y1=\"" + fmt(ly) + "\" x2=\"" + fmt(lx + 28) +
                   "\" y2=\"" + fmt(ly) + "\" stroke=\"" + e.colour + "\" stroke-width=\"2.5\"" +
                   (e.dashed ? " stroke-dasharray=\"7 4\"" : "") + "/>\n";
            svg += "<text x=\"" + fmt(lx + 34) + "\" y=\"" + fmt(ly + 4) + "\">" + escape(e.label) +
                   "</text>\n";
            lx += 120;
        }
        svg += "</g>\n";
    }
    for (std::size_t i = 0; i < chart.panels.size(); ++i)
        draw_panel(svg, chart.panels[i], l.x(i), l.top, l.panel_width, l.panel_height);
    svg += "</svg>\n";
    return svg;
}

void write_line_chart(const std::filesystem::path& path, const line_chart& chart) {
    write_file_atomically(path, line_chart_svg(chart));
}

std::string training_chart_svg(std::span<const epoch_record> records,
                               const chart_options& options) {
    line_chart chart;
    chart.title = options.title;
    chart.width = options.width;
    chart.height = options.height;
    chart.legend = {{"training", train_colour, false}, {"validation", val_colour, true}};
    const bool markers = records.size() <= 60;
    auto curve = [&](const char* label, const char* colour, bool dashed, auto value) {
        chart_curve c{label, {}, {}, colour, dashed, markers};
        for (const epoch_record& r : records) {
            c.x.push_back(static_cast<double>(r.epoch));
            c.y.push_back(value(r));
        }
        return c;
    };
    const double inf = std::numeric_limits<double>::infinity();
    chart.panels.push_back({"Loss",
                            "epoch",
                            "loss",
                            {curve("training loss", train_colour, false,
                                   [](const epoch_record& r) { return r.train_loss; }),
                             curve("validation loss", val_colour, true,
                                   [](const epoch_record& r) { return r.val_loss; })},
                            -inf,
                            inf,
                            true});
    chart.panels.push_back({"Accuracy",
                            "epoch",
                            "accuracy (%)",
                            {curve("training accuracy", train_colour, false,
                                   [](const epoch_record& r) { return 100 * r.train_acc; }),
                             curve("validation accuracy", val_colour, true,
                                   [](const epoch_record& r) { return 100 * r.val_acc; })},
                            0,
                            100,
                            true});
    return line_chart_svg(chart);
}

void write_training_chart(const std::filesystem::path& path, std::span<const epoch_record> records,
                          const chart_options& options) {
    write_file_atomically(path, training_chart_svg(records, options));
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
