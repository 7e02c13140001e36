#pragma once

#include <QString>

namespace SiteRelay::Test {

/// The source tree's root.
QString sourceDir();
/// tests/data in the source tree.
QString testDataDir();
/// The siterelay executable built beside the tests (from the SITERELAY_BINARY environment).
QString siterelayBinary();

} // namespace SiteRelay::Test
