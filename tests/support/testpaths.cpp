#include "testpaths.h"

#include <QString>

namespace SiteRelay::Test {

QString sourceDir()
{
    return QStringLiteral(SITERELAY_SOURCE_DIR);
}

QString testDataDir()
{
    return QStringLiteral(SITERELAY_TEST_DATA_DIR);
}

QString siterelayBinary()
{
    return qEnvironmentVariable("SITERELAY_BINARY");
}

} // namespace SiteRelay::Test
