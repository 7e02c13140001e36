// siterelay_stub_analysis: the stub analysis service as a standalone process, for benchmarks and manual runs.
//
//   siterelay_stub_analysis --port N --mode fast|slow|never|error500|drop|invalid [--delay-ms N] [--token T]
//
// Prints "stub listening on http://127.0.0.1:PORT" once it accepts connections, and its counters on SIGINT/SIGTERM.

#include "stubanalysisserver.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>

using namespace Qt::Literals::StringLiterals;
using SiteRelay::StubAnalysisServer;

namespace {

std::atomic<int> stopSignal{0};

extern "C" void requestStop(int signal)
{
    stopSignal = signal;
}

int fail(const QString &message)
{
    std::fprintf(stderr, "siterelay_stub_analysis: %s\n", qPrintable(message));
    return 2;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"siterelay_stub_analysis"_s);

    QCommandLineParser parser;
    parser.setApplicationDescription(u"A stand-in for the analysis service on 127.0.0.1: POST /analyse."_s);
    parser.addHelpOption();
    const QCommandLineOption portOption(u"port"_s, u"Port to listen on; 0 picks a free one."_s, u"N"_s, u"0"_s);
    const QCommandLineOption modeOption(u"mode"_s, u"fast, slow, never, error500, drop or invalid."_s, u"MODE"_s,
                                        u"fast"_s);
    const QCommandLineOption delayOption(u"delay-ms"_s, u"Delay of an answer in slow mode."_s, u"N"_s, u"1000"_s);
    const QCommandLineOption tokenOption(u"token"_s, u"Accept only this Bearer token (default: any)."_s, u"TOKEN"_s);
    parser.addOptions({portOption, modeOption, delayOption, tokenOption});
    parser.process(app);

    bool ok = false;
    const uint port = parser.value(portOption).toUInt(&ok);
    if (!ok || port > 65535)
        return fail(u"--port needs a number from 0 to 65535."_s);
    const std::optional<StubAnalysisServer::Mode> mode = StubAnalysisServer::modeFromString(parser.value(modeOption));
    if (!mode)
        return fail(u"--mode needs one of fast, slow, never, error500, drop, invalid."_s);
    const int delayMs = parser.value(delayOption).toInt(&ok);
    if (!ok || delayMs < 0)
        return fail(u"--delay-ms needs a number of milliseconds, 0 or more."_s);

    StubAnalysisServer server(*mode, delayMs);
    server.setExpectedToken(parser.value(tokenOption).toUtf8());
    if (!server.listen(quint16(port)))
        return fail(u"cannot listen on 127.0.0.1:%1."_s.arg(port));

    // A signal handler may only set a flag; a coarse poll turns it into a clean exit that can print the counters.
    std::signal(SIGINT, requestStop);
    std::signal(SIGTERM, requestStop);
    QTimer stopPoll;
    QObject::connect(&stopPoll, &QTimer::timeout, &app, [] {
        if (stopSignal != 0)
            QCoreApplication::quit();
    });
    stopPoll.start(100);

    std::printf("stub listening on http://127.0.0.1:%u\n", unsigned(server.port()));
    std::fflush(stdout); // a script waiting for this line reads a pipe, which is block-buffered
    const int status = QCoreApplication::exec();
    std::printf("stub counters: requests=%d answered=%d rejected=%d connections=%d open=%d\n",
                server.requestsReceived(), server.answered(), server.rejected(), server.connectionsAccepted(),
                server.openConnections());
    std::fflush(stdout);
    return status;
}
