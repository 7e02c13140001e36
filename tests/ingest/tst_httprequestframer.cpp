#include <QTest>

// Placeholder while the unit is being written.
class TstHttprequestframer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pending() { QSKIP("being written"); }
};

QTEST_GUILESS_MAIN(TstHttprequestframer)
#include "tst_httprequestframer.moc"
