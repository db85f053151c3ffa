#include "dendrite/io/box_plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "dendrite/io/atomic_file.hpp"
#include "svg_draw.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

namespace {

using svg::axis;
using svg::escape;
using svg::fmt;

/// The q-quantile of sorted values, interpolating linearly between order statistics.
double quantile(const std::vector<double>& sorted, double q) {
    const double pos = q * static_cast<double>(sorted.size() - 1);
    const auto i = static_cast<std::size_t>(std::floor(pos));
    if (i + 1 >= sorted.size()) return sorted.back();
    const double f = pos - static_cast<double>(i);
    return sorted[i] + f * (sorted[i + 1] - sorted[i]);
}

void check_values(const box_group& g) {
    for (double v : g.values)
        if (!std::isfinite(v))
            throw std::invalid_argument("box plot: group '" + g.label + "' holds " + fmt(v, 4) +
                                        ", which cannot be drawn");
}

void draw_box_panel(std::string& out, const box_panel& p, double x0, double y0, double w,
                    double h) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const box_group& g : p.groups) {
        check_values(g);
        for (double v : g.values)
            lo = std::min(lo, v), hi = std::max(hi, v);
    }
    const axis ey = axis::nice(lo, hi, 6);
    auto py = [&](double v) { return y0 + h - (v - ey.lo) / (ey.hi - ey.lo) * h; };

    out += "<g>\n<text x=\"" + fmt(x0) + "\" y=\"" + fmt(y0 - 12) +
           "\" font-size=\"15\" font-weight=\"600\" fill=\"#222\">" + escape(p.title) + "</text>\n";
    for (double t : ey.ticks()) {
        const std::string y = fmt(py(t));
        out += "<line x1=\"" + fmt(x0) + "\" y1=\"" + y + "\" x2=\"" + fmt(x0 + w) + "\" y2=\"" +
               y + "\" stroke=\"#e6e6e6\"/>\n";
        out += "<text x=\"" + fmt(x0 - 8) + "\" y=\"" + fmt(py(t) + 4) + "\" text-anchor=\"end\">" +
               fmt(t, ey.decimals) + "</text>\n";
    }
    out += "<rect x=\"" + fmt(x0) + "\" y=\"" + fmt(y0) + "\" width=\"" + fmt(w) + "\" height=\"" +
           fmt(h) + "\" fill=\"none\" stroke=\"#444\"/>\n";
    out += "<text transform=\"translate(" + fmt(x0 - 50) + " " + fmt(y0 + h / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">" + escape(p.y_label) + "</text>\n";

    const double n = static_cast<double>(std::max<std::size_t>(p.groups.size(), 1));
    const double slot = w / n, half = std::min(28.0, slot * 0.3);
    const bool slanted = std::any_of(p.groups.begin(), p.groups.end(), [&](const box_group& g) {
        return static_cast<double>(g.label.size()) * 6.5 > slot;
    });
    for (std::size_t i = 0; i < p.groups.size(); ++i) {
        const box_group& g = p.groups[i];
        const double cx = x0 + slot * (static_cast<double>(i) + 0.5);
        const std::string label_y = fmt(y0 + h + 18);
        out += slanted
                   ? "<text transform=\"translate(" + fmt(cx) + " " + label_y +
                         ") rotate(-25)\" text-anchor=\"end\">"
                   : "<text x=\"" + fmt(cx) + "\" y=\"" + label_y + "\" text-anchor=\"middle\">";
        out += escape(g.label) + "</text>\n";
        if (g.values.empty()) continue;

        const box_summary s = summarize_box(g.values);
        const std::string l = fmt(cx - half), r = fmt(cx + half), c = fmt(cx);
        const std::string cap_l = fmt(cx - half / 2), cap_r = fmt(cx + half / 2);
        for (const auto& [from, to] : {std::pair{s.lower_whisker, s.first_quartile},
                                       std::pair{s.third_quartile, s.upper_whisker}}) {
            out += "<line x1=\"" + c + "\" y1=\"" + fmt(py(from)) + "\" x2=\"" + c + "\" y2=\"" +
                   fmt(py(to)) + "\" stroke=\"#444\"/>\n";
        }
        for (double v : {s.lower_whisker, s.upper_whisker})
            out += "<line x1=\"" + cap_l + "\" y1=\"" + fmt(py(v)) + "\" x2=\"" + cap_r +
                   "\" y2=\"" + fmt(py(v)) + "\" stroke=\"#444\"/>\n";
        out += "<rect x=\"" + l + "\" y=\"" + fmt(py(s.third_quartile)) + "\" width=\"" +
               fmt(2 * half) + "\" height=\"" +
               fmt(std::max(1.0, py(s.first_quartile) - py(s.third_quartile))) + "\" fill=\"" +
               g.colour + "\" fill-opacity=\"0.25\" stroke=\"" + g.colour + "\"/>\n";
        out += "<line x1=\"" + l + "\" y1=\"" + fmt(py(s.median)) + "\" x2=\"" + r + "\" y2=\"" +
               fmt(py(s.median)) + "\" stroke=\"" + g.colour + "\" stroke-width=\"2.5\"/>\n";
        // Every measurement, spread sideways so that equal values stay visible.
        for (std::size_t k = 0; k < g.values.size(); ++k) {
            const double spread =
                g.values.size() > 1
                    ? (static_cast<double>(k) / static_cast<double>(g.values.size() - 1) - 0.5)
                    : 0.0;
            out += "<circle cx=\"" + fmt(cx + spread * half) + "\" cy=\"" + fmt(py(g.values[k])) +
                   "\" r=\"3\" fill=\"" + g.colour + "\"><title>" + escape(g.label) + ": " +
                   fmt(g.values[k], 4) + "</title></circle>\n";
        }
    }
    out += "</g>\n";
}

}  // namespace

box_summary summarize_box(std::span<const double> values) {
    std::vector<double> v;
    for (double x : values)
        if (!std::isnan(x)) v.push_back(x);
    if (v.empty()) throw std::invalid_argument("box plot: no values to summarize");
    std::sort(v.begin(), v.end());
    box_summary s;
    s.first_quartile = quantile(v, 0.25);
    s.median = quantile(v, 0.5);
    s.third_quartile = quantile(v, 0.75);
    const double reach = 1.5 * (s.third_quartile - s.first_quartile);
    s.lower_whisker = *std::lower_bound(v.begin(), v.end(), s.first_quartile - reach);
    s.upper_whisker = *(std::upper_bound(v.begin(), v.end(), s.third_quartile + reach) - 1);
    return s;
}

std::string box_chart_svg(const box_chart& chart) {
    const svg::panel_layout l(chart.width, chart.height, 220, chart.panels.size(), 70, 90, 76, 90,
                              24);
    std::string out = svg::svg_document_start(l.width, l.height, chart.title);
    for (std::size_t i = 0; i < chart.panels.size(); ++i)
        draw_box_panel(out, chart.panels[i], l.x(i), l.top, l.panel_width, l.panel_height);
    out += "</svg>\n";
    return out;
}

void write_box_chart(const std::filesystem::path& path, const box_chart& chart) {
    write_file_atomically(path, box_chart_svg(chart));
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
