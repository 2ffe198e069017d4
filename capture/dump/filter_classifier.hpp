// FilterClassifier: the page filter (capture/filter/page_filter.hpp) seen as
// the copier's PageClassifier, for kdive-dump. Kept apart from the writers so
// that they, and their tests, do not need the filter.
//
//   ClassifierFactory f = filter_classifier(source, 31);   // throws FilterError
//   filter_classifier(source, 31, text);   // VMCOREINFO from -x VMLINUX, for a source without it
#pragma once

#include <string>

#include "capture/writers/page_classifier.hpp"
#include "readers/dump_source.hpp"

namespace kdive::capture {

// Checks now that the filter can work on `source` at `dump_level` (throws
// FilterError, one line), and returns a factory of fresh filters.
ClassifierFactory filter_classifier(DumpSource& source, int dump_level, std::string vmcoreinfo = {});

}  // namespace kdive::capture
