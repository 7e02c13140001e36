// RetryPolicy: the backoff the engine applies between attempts of a transiently failing task.
#include "retrypolicy.h"

#include <QRandomGenerator>
#include <QTest>

#include <limits>

using namespace Qt::Literals::StringLiterals;
using SiteRelay::RetryPolicy;

class TstRetryPolicy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void delayWithoutJitter_data();
    void delayWithoutJitter();
    void jitterEnds_data();
    void jitterEnds();
    void jitterStaysWithinBounds_data();
    void jitterStaysWithinBounds();
    void mayRetryAfter_data();
    void mayRetryAfter();
};

void TstRetryPolicy::delayWithoutJitter_data()
{
    QTest::addColumn<int>("baseMs");
    QTest::addColumn<int>("capMs");
    QTest::addColumn<int>("attemptInRun");
    QTest::addColumn<qint64>("expectedMs");

    // jitter01 = 0.5 is the neutral factor 1.0, so these rows show the bare schedule.
    QTest::addRow("first retry waits base") << 2000 << 300000 << 1 << qint64(2000);
    QTest::addRow("second doubles") << 2000 << 300000 << 2 << qint64(4000);
    QTest::addRow("third doubles again") << 2000 << 300000 << 3 << qint64(8000);
    QTest::addRow("eighth: 2000*2^7") << 2000 << 300000 << 8 << qint64(256000);
    QTest::addRow("ninth hits the cap") << 2000 << 300000 << 9 << qint64(300000);
    QTest::addRow("far beyond stays capped") << 2000 << 300000 << 50 << qint64(300000);
    // An exponent this large would overflow an int shift; the policy must still cap, not wrap.
    QTest::addRow("huge attempt number") << 2000 << 300000 << std::numeric_limits<int>::max() << qint64(300000);
    QTest::addRow("engine test settings 1") << 50 << 200 << 1 << qint64(50);
    QTest::addRow("engine test settings 2") << 50 << 200 << 2 << qint64(100);
    QTest::addRow("engine test settings 3") << 50 << 200 << 3 << qint64(200);
    QTest::addRow("engine test settings 4") << 50 << 200 << 4 << qint64(200);
    QTest::addRow("base above cap is capped") << 5000 << 1000 << 1 << qint64(1000);
    // attemptInRun counts from 1; a caller passing 0 or less must not get a shorter-than-base delay.
    QTest::addRow("attempt 0 treated as first") << 2000 << 300000 << 0 << qint64(2000);
    QTest::addRow("negative attempt treated as first") << 2000 << 300000 << -3 << qint64(2000);
}

void TstRetryPolicy::delayWithoutJitter()
{
    QFETCH(int, baseMs);
    QFETCH(int, capMs);
    QFETCH(int, attemptInRun);
    QFETCH(qint64, expectedMs);
    const RetryPolicy policy{baseMs, capMs, 5};
    QCOMPARE(policy.delayMs(attemptInRun, 0.5), expectedMs);
}

void TstRetryPolicy::jitterEnds_data()
{
    QTest::addColumn<int>("attemptInRun");
    QTest::addColumn<double>("jitter01");
    QTest::addColumn<qint64>("expectedMs");

    // base 1000, cap 10000: nominal 1000, 2000, 4000, 8000, 10000 (capped).
    QTest::addRow("lowest jitter is 0.75x") << 1 << 0.0 << qint64(750);
    QTest::addRow("lowest jitter, third") << 3 << 0.0 << qint64(3000);
    QTest::addRow("quarter jitter is 0.875x") << 2 << 0.25 << qint64(1750);
    QTest::addRow("highest jitter stays below 1.25x") << 1 << 0.999999 << qint64(1250);
    QTest::addRow("out-of-range jitter is clamped low") << 2 << -4.0 << qint64(1500);
    QTest::addRow("out-of-range jitter is clamped high") << 2 << 7.0 << qint64(2500);
    // At the cap, jitter may shorten the delay but never lengthen it: capMs is "the longest delay".
    QTest::addRow("capped, low jitter shortens") << 5 << 0.0 << qint64(7500);
    QTest::addRow("capped, high jitter does not exceed cap") << 5 << 0.999999 << qint64(10000);
    QTest::addRow("fourth, high jitter clipped at cap") << 4 << 0.999999 << qint64(10000);
}

void TstRetryPolicy::jitterEnds()
{
    QFETCH(int, attemptInRun);
    QFETCH(double, jitter01);
    QFETCH(qint64, expectedMs);
    const RetryPolicy policy{1000, 10000, 5};
    QCOMPARE(policy.delayMs(attemptInRun, jitter01), expectedMs);
}

void TstRetryPolicy::jitterStaysWithinBounds_data()
{
    QTest::addColumn<int>("baseMs");
    QTest::addColumn<int>("capMs");
    QTest::addColumn<int>("attemptInRun");
    QTest::addColumn<double>("nominalMs");

    QTest::addRow("defaults, first") << 2000 << 300000 << 1 << 2000.0;
    QTest::addRow("defaults, fifth") << 2000 << 300000 << 5 << 32000.0;
    QTest::addRow("defaults, capped") << 2000 << 300000 << 12 << 300000.0;
    QTest::addRow("small base") << 50 << 200 << 2 << 100.0;
    QTest::addRow("tiny base") << 4 << 1000 << 1 << 4.0;
}

void TstRetryPolicy::jitterStaysWithinBounds()
{
    QFETCH(int, baseMs);
    QFETCH(int, capMs);
    QFETCH(int, attemptInRun);
    QFETCH(double, nominalMs);
    const RetryPolicy policy{baseMs, capMs, 5};
    // A fixed seed keeps a failure reproducible; 2000 draws cover the range densely.
    QRandomGenerator random(20261126);
    qint64 lowest = std::numeric_limits<qint64>::max();
    qint64 highest = 0;
    for (int i = 0; i < 2000; ++i) {
        const double jitter = random.generateDouble();
        const qint64 delay = policy.delayMs(attemptInRun, jitter);
        // The exact factor is 0.75 + 0.5·jitter; the result is rounded to whole milliseconds.
        const double exact = std::min(nominalMs * (0.75 + 0.5 * jitter), double(capMs));
        QVERIFY2(std::abs(double(delay) - exact) <= 0.5,
                 qPrintable(u"jitter %1 gave %2 ms, expected %3"_s.arg(jitter).arg(delay).arg(exact)));
        QVERIFY2(double(delay) >= nominalMs * 0.75 - 0.5 && double(delay) < nominalMs * 1.25 + 0.5,
                 qPrintable(u"%1 ms is outside [0.75, 1.25) x %2 ms"_s.arg(delay).arg(nominalMs)));
        QVERIFY2(delay <= capMs, qPrintable(u"%1 ms exceeds the cap %2 ms"_s.arg(delay).arg(capMs)));
        lowest = std::min(lowest, delay);
        highest = std::max(highest, delay);
    }
    // Jitter must actually spread a batch out: the draws reach close to both ends of the range
    // (below the cap; at the cap the upper half is clipped to capMs).
    const double upper = std::min(nominalMs * 1.25, double(capMs));
    QVERIFY2(double(lowest) <= nominalMs * 0.76 + 0.5, qPrintable(u"lowest draw %1 ms"_s.arg(lowest)));
    QVERIFY2(double(highest) >= std::min(nominalMs * 1.24, upper) - 0.5,
             qPrintable(u"highest draw %1 ms"_s.arg(highest)));
}

void TstRetryPolicy::mayRetryAfter_data()
{
    QTest::addColumn<int>("maxAttempts");
    QTest::addColumn<int>("attemptInRun");
    QTest::addColumn<bool>("mayRetry");

    QTest::addRow("3: after 1") << 3 << 1 << true;
    QTest::addRow("3: after 2") << 3 << 2 << true;
    QTest::addRow("3: after 3 (the last)") << 3 << 3 << false;
    QTest::addRow("3: after 4") << 3 << 4 << false;
    QTest::addRow("1: never retries") << 1 << 1 << false;
    QTest::addRow("5: after 4") << 5 << 4 << true;
    QTest::addRow("5: after 5") << 5 << 5 << false;
}

void TstRetryPolicy::mayRetryAfter()
{
    QFETCH(int, maxAttempts);
    QFETCH(int, attemptInRun);
    QFETCH(bool, mayRetry);
    const RetryPolicy policy{2000, 300000, maxAttempts};
    QCOMPARE(policy.mayRetryAfter(attemptInRun), mayRetry);
}

QTEST_GUILESS_MAIN(TstRetryPolicy)
#include "tst_retrypolicy.moc"
