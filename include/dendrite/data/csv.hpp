#pragma once
// A CSV reader for tabular classification data: a header row, numeric feature columns and one
// label column.

#include <cstddef>
#include <filesystem>
#include <string>
#include <variant>

#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"
#include "dendrite/data/error.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

/// How to read a CSV file.
struct csv_options {
    /// The label column, by header name or by zero-based index.
    std::variant<std::string, std::size_t> label = std::string("label");
    /// Field separator.
    char delimiter = ',';
};

/// Reads a CSV file whose first line is a header. Fields may be quoted with "..." ("" inside a
/// quoted field is one quote); surrounding spaces are ignored; blank lines are skipped; a UTF-8
/// byte-order mark and CRLF line ends are accepted.
///
/// Every column but the label is a feature and must hold a finite number; x is [rows, features]
/// in column order. Labels that are all non-negative integers are used as they are, with classes =
/// max + 1; otherwise each distinct label becomes a class, numbered in sorted order (numeric when
/// all are integers, as with {-1, 1}; else by text, so the numbering does not depend on the order
/// of the rows), and class_names lists the labels.
///
/// Throws data_error starting with the file name on: a file that cannot be opened, an empty file,
/// no data rows, a label column not in the header, "line 17: expected 5 fields, found 4",
/// "line 9, column 'x2': 'abc' is not a number", an unterminated quote. Cost: one pass, O(file).
dataset read_csv(const std::filesystem::path& path, const csv_options& options = {});

}  // namespace dendrite::inline DENDRITE_TARGET::data
