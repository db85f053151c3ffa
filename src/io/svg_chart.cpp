#include "dendrite/io/svg_chart.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <vector>

#include "dendrite/io/atomic_file.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

namespace {

constexpr const char* train_colour = "#1f77b4";
constexpr const char* val_colour = "#e8590c";

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string fmt(double v, int decimals = 1) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

/// Axis ticks at multiples of a 1-2-5 step covering [lo, hi].
struct axis {
    double lo = 0, hi = 1, step = 0.2;
    int decimals = 1;

    static axis nice(double lo, double hi, int target_ticks, bool integer = false) {
        if (!(std::isfinite(lo) && std::isfinite(hi))) lo = 0, hi = 1;
        if (hi - lo < 1e-12) {
            const double pad = std::abs(lo) > 1e-12 ? std::abs(lo) * 0.1 : 1.0;
            lo -= pad;
            hi += pad;
        }
        const double raw = (hi - lo) / std::max(1, target_ticks - 1);
        const double mag = std::pow(10.0, std::floor(std::log10(raw)));
        const double f = raw / mag;
        double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
        if (integer) step = std::max(1.0, std::round(step));
        axis a;
        a.step = step;
        a.lo = std::floor(lo / step + 1e-9) * step;
        a.hi = std::ceil(hi / step - 1e-9) * step;
        a.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
        return a;
    }
    std::vector<double> ticks() const {
        std::vector<double> t;
        for (double v = lo; v <= hi + step * 1e-6 && t.size() < 100; v += step)
            t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
        return t;
    }
};

struct series {
    const char* label;
    const char* colour;
    bool dashed;
    std::function<double(const epoch_record&)> value;
};

/// One panel: frame, grid, ticks, axis labels and curves, with the plot area at (x, y, w, h).
void panel(std::string& svg, std::span<const epoch_record> records, const std::string& title,
           const std::string& unit, const std::vector<series>& lines, double x0, double y0,
           double w, double h, double clamp_lo, double clamp_hi) {
    double emin = std::numeric_limits<double>::infinity(), emax = -emin;
    double vmin = emin, vmax = -emin;
    for (const epoch_record& r : records) {
        for (const series& s : lines) {
            const double v = s.value(r);
            if (!std::isfinite(v)) continue;
            vmin = std::min(vmin, v);
            vmax = std::max(vmax, v);
            emin = std::min(emin, static_cast<double>(r.epoch));
            emax = std::max(emax, static_cast<double>(r.epoch));
        }
    }
    const bool empty = !std::isfinite(vmin);
    if (empty) emin = 0, emax = 1, vmin = clamp_lo, vmax = std::isfinite(clamp_hi) ? clamp_hi : 1;
    const axis ex = axis::nice(emin, emax, 8, /*integer=*/true);
    axis ey = axis::nice(vmin, vmax, 6);
    ey.lo = std::max(ey.lo, clamp_lo);
    ey.hi = std::min(ey.hi, clamp_hi);
    auto px = [&](double e) { return x0 + (e - ex.lo) / (ex.hi - ex.lo) * w; };
    auto py = [&](double v) { return y0 + h - (v - ey.lo) / (ey.hi - ey.lo) * h; };

    svg += "<g>\n<text x=\"" + fmt(x0) + "\" y=\"" + fmt(y0 - 12) +
           "\" font-size=\"15\" font-weight=\"600\" fill=\"#222\">" + escape(title) + "</text>\n";
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
               fmt(t, 0) + "</text>\n";
    }
    svg += "<rect x=\"" + fmt(x0) + "\" y=\"" + fmt(y0) + "\" width=\"" + fmt(w) + "\" height=\"" +
           fmt(h) + "\" fill=\"none\" stroke=\"#444\"/>\n";
    svg += "<text x=\"" + fmt(x0 + w / 2) + "\" y=\"" + fmt(y0 + h + 40) +
           "\" text-anchor=\"middle\">epoch</text>\n";
    svg += "<text transform=\"translate(" + fmt(x0 - 50) + " " + fmt(y0 + h / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">" + escape(unit) + "</text>\n";
    if (empty)
        svg += "<text x=\"" + fmt(x0 + w / 2) + "\" y=\"" + fmt(y0 + h / 2) +
               "\" text-anchor=\"middle\" fill=\"#999\">no data</text>\n";

    // Curves: a NaN (not measured) breaks the line; markers carry the values as tooltips.
    const bool markers = records.size() <= 60;
    for (const series& s : lines) {
        std::string d;
        bool pen_down = false;
        std::string dots;
        for (const epoch_record& r : records) {
            const double v = s.value(r);
            if (!std::isfinite(v)) {
                pen_down = false;
                continue;
            }
            const double cx = px(static_cast<double>(r.epoch)),
                         cy = py(std::clamp(v, ey.lo, ey.hi));
            d += (pen_down ? " L" : " M") + fmt(cx) + " " + fmt(cy);
            pen_down = true;
            if (markers)
                dots += "<circle cx=\"" + fmt(cx) + "\" cy=\"" + fmt(cy) + "\" r=\"3\" fill=\"" +
                        s.colour + "\"><title>" + s.label + ", epoch " + std::to_string(r.epoch) +
                        ": " + fmt(v, 4) + "</title></circle>\n";
        }
        if (d.empty()) continue;
        svg += "<path d=\"" + d.substr(1) + "\" fill=\"none\" stroke=\"" + s.colour +
               "\" stroke-width=\"2.2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" +
               (s.dashed ? " stroke-dasharray=\"7 4\"" : "") + "/>\n" + dots;
    }
    svg += "</g>\n";
}

}  // namespace

std::string training_chart_svg(std::span<const epoch_record> records,
                               const chart_options& options) {
    const double W = static_cast<double>(std::max<std::size_t>(options.width, 320));
    const double H = static_cast<double>(std::max<std::size_t>(options.height, 200));
    const double top = 84, bottom = 56, left = 70, gap = 80, right = 24;
    const double pw = (W - left - gap - right) / 2, ph = H - top - bottom;

    std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(W, 0) + "\" height=\"" +
           fmt(H, 0) + "\" viewBox=\"0 0 " + fmt(W, 0) + " " + fmt(H, 0) +
           "\" font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\" "
           "font-size=\"12\" "
           "fill=\"#333\">\n";
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    svg +=
        "<text x=\"" + fmt(W / 2) +
        "\" y=\"28\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"600\" fill=\"#111\">" +
        escape(options.title) + "</text>\n";

    // Legend, centred under the title.
    const double lx = W / 2 - 110, ly = 50;
    svg += "<g>\n<line x1=\"" + fmt(lx) + "\" y1=\"" + fmt(ly) + "\" x2=\"" + fmt(lx + 28) +
           "\" y2=\"" + fmt(ly) + "\" stroke=\"" + train_colour + "\" stroke-width=\"2.5\"/>\n";
    svg += "<text x=\"" + fmt(lx + 34) + "\" y=\"" + fmt(ly + 4) + "\">training</text>\n";
    svg += "<line x1=\"" + fmt(lx + 120) + "\" y1=\"" + fmt(ly) + "\" x2=\"" + fmt(lx + 148) +
           "\" y2=\"" + fmt(ly) + "\" stroke=\"" + val_colour +
           "\" stroke-width=\"2.5\" stroke-dasharray=\"7 4\"/>\n";
    svg += "<text x=\"" + fmt(lx + 154) + "\" y=\"" + fmt(ly + 4) + "\">validation</text>\n</g>\n";

    const std::vector<series> loss{
        {"training loss", train_colour, false, [](const epoch_record& r) { return r.train_loss; }},
        {"validation loss", val_colour, true, [](const epoch_record& r) { return r.val_loss; }},
    };
    const std::vector<series> accuracy{
        {"training accuracy", train_colour, false,
         [](const epoch_record& r) { return 100 * r.train_acc; }},
        {"validation accuracy", val_colour, true,
         [](const epoch_record& r) { return 100 * r.val_acc; }},
    };
    const double inf = std::numeric_limits<double>::infinity();
    panel(svg, records, "Loss", "loss", loss, left, top, pw, ph, -inf, inf);
    panel(svg, records, "Accuracy", "accuracy (%)", accuracy, left + pw + gap, top, pw, ph, 0, 100);
    svg += "</svg>\n";
    return svg;
}

void write_training_chart(const std::filesystem::path& path, std::span<const epoch_record> records,
                          const chart_options& options) {
    write_file_atomically(path, training_chart_svg(records, options));
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
