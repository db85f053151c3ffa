#pragma once
// What the SVG pictures share: text escaping, number formatting, "nice" axis ticks and the
// document's opening. Internal to the compiled part.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::io::svg {

inline std::string escape(const std::string& s) {
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

inline std::string fmt(double v, int decimals = 1) {
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

/// Panels side by side in a document of at least 320 x min_height pixels, with margins around
/// and gaps between their plot areas.
struct panel_layout {
    double width, height, panel_width, panel_height, top, left, gap;

    panel_layout(std::size_t w, std::size_t h, double min_height, std::size_t panels,
                 double top_margin, double bottom, double left_margin, double gap_between,
                 double right)
        : width(std::max(static_cast<double>(w), 320.0)),
          height(std::max(static_cast<double>(h), min_height)),
          top(top_margin),
          left(left_margin),
          gap(gap_between) {
        const double n = static_cast<double>(std::max<std::size_t>(panels, 1));
        panel_width = (width - left - gap * (n - 1) - right) / n;
        panel_height = height - top - bottom;
    }
    /// The left edge of panel i's plot area.
    double x(std::size_t i) const { return left + static_cast<double>(i) * (panel_width + gap); }
};

/// The XML prolog, the <svg> element of W x H pixels on white, and a centred title.
inline std::string svg_document_start(double W, double H, const std::string& title) {
    std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(W, 0) + "\" height=\"" +
           fmt(H, 0) + "\" viewBox=\"0 0 " + fmt(W, 0) + " " + fmt(H, 0) +
           "\" font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\" "
           "font-size=\"12\" fill=\"#333\">\n";
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    svg += "<text x=\"" + fmt(W / 2) +
           "\" y=\"28\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"600\" "
           "fill=\"#111\">" +
           escape(title) + "</text>\n";
    return svg;
}

}  // namespace dendrite::inline DENDRITE_TARGET::io::svg
