// `synscope analyze` as a user runs it: the real binary on the shared captures, on stdin, with
// filters, several files, and bad input.
#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "integration/support.h"

namespace synscope::testing {
namespace {

std::string pcap(const std::string& name) { return SYNSCOPE_SHARED_DIR "/pcaps/" + name; }

std::vector<std::string> analyze(std::vector<std::string> args) {
  args.insert(args.begin(), {synscope_binary(), "analyze"});
  return args;
}

class AnalyzeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (shared_captures().empty()) GTEST_SKIP() << "no captures in " SYNSCOPE_SHARED_DIR "/pcaps";
  }
};

TEST_F(AnalyzeCli, JsonLinesOnePerConnectionThenSummary) {
  auto r = run_command(analyze({pcap("kernel-normal-v4v6.pcap"), "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = parse_json_lines(r.out);
  auto conns = of_type(lines, "connection");
  auto summary = of_type(lines, "summary");
  ASSERT_EQ(conns.size(), 40u);
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(lines.back().at("type"), "summary");
  for (const auto& c : conns) {
    EXPECT_EQ(c.at("conn_state"), "SF");
    EXPECT_EQ(c.at("handshake_complete"), true);
    EXPECT_GT(c.at("initial_rtt_us").get<double>(), 0.0);
    EXPECT_EQ(c.at("server").get<std::string>().ends_with(":8080"), true);
  }
  EXPECT_EQ(summary[0].at("attempts"), 40);
  EXPECT_EQ(summary[0].at("completed"), 40);
  EXPECT_EQ(summary[0].at("success_rate"), 1.0);
  EXPECT_EQ(summary[0].at("initial_rtt_us").at("count"), 40);
}

TEST_F(AnalyzeCli, SameAnswerFromAFileAndFromStdin) {
  auto file = run_command(analyze({pcap("kernel-normal-v4v6.pcapng"), "--json"}));
  auto piped = run_command({"sh", "-c", "cat \"$0\" | \"$1\" analyze - --json", pcap("kernel-normal-v4v6.pcapng"),
                            synscope_binary()});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  auto a = of_type(parse_json_lines(file.out), "connection");
  auto b = of_type(parse_json_lines(piped.out), "connection");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << i;
}

TEST_F(AnalyzeCli, GzipCapturesAreReadAsTsharkReadsThem) {
  if (!have_tool("gzip")) GTEST_SKIP() << "gzip is needed";
  temp_dir dir;
  std::string plain = pcap("kernel-normal-v4v6.pcapng");
  std::string gz = dir.path("trace.pcapng.gz");
  std::string twice = dir.path("twice.pcapng.gz");
  ASSERT_EQ(run_command({"sh", "-c", "gzip -c \"$0\" > \"$1\"", plain, gz}).exit_code, 0);
  ASSERT_EQ(run_command({"sh", "-c", "(gzip -c \"$0\"; gzip -c \"$0\") > \"$1\"", plain, twice}).exit_code, 0);
  auto want = run_command(analyze({plain, "--json"}));
  ASSERT_EQ(want.exit_code, 0) << want.err;
  auto file = run_command(analyze({gz, "--json"}));
  EXPECT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(file.out, want.out);
  auto piped = run_command({"sh", "-c", "\"$1\" analyze - --json < \"$0\"", gz, synscope_binary()});
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, want.out);
  // Two gzip members one after the other (files joined with cat) are one stream, as zcat reads
  // them: here two pcapng sections, each of the 400 packets.
  auto joined = run_command(analyze({twice}));
  EXPECT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_NE(joined.out.find("1 file, 800 packets"), std::string::npos) << joined.out << joined.err;
  // Cut short: the results up to there, then the line.
  std::string cut = dir.path("cut.pcapng.gz");
  ASSERT_EQ(run_command({"sh", "-c", "head -c 3000 \"$0\" > \"$1\"", gz, cut}).exit_code, 0);
  auto r = run_command(analyze({cut}));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find(cut + ": the gzip data ends early, at byte offset "), std::string::npos) << r.err;
  EXPECT_NE(r.out.find(" packets ("), std::string::npos) << r.out;
  // Other compressors are named, not called "not a pcap file".
  std::string zst = dir.path("trace.pcap.zst");
  std::ofstream(zst, std::ios::binary) << std::string("\x28\xb5\x2f\xfd\x00\x58\x00\x00", 8) << std::string(64, 'z');
  auto z = run_command(analyze({zst}));
  EXPECT_EQ(z.exit_code, 4);
  EXPECT_NE(z.err.find("compressed with zstd: decompress it first"), std::string::npos) << z.err;
}

TEST_F(AnalyzeCli, FilterExpressionThroughLibpcap) {
  auto v6 = run_command(analyze({pcap("kernel-normal-v4v6.pcap"), "ip6", "--json"}));
  ASSERT_EQ(v6.exit_code, 0) << v6.err;
  EXPECT_EQ(of_type(parse_json_lines(v6.out), "connection").size(), 10u);
  auto v4 = run_command(analyze({pcap("kernel-normal-v4v6.pcap"), "ip", "and", "port", "8080", "--json"}));
  ASSERT_EQ(v4.exit_code, 0) << v4.err;
  EXPECT_EQ(of_type(parse_json_lines(v4.out), "connection").size(), 30u);
  auto bad = run_command(analyze({pcap("kernel-normal-v4v6.pcap"), "port", "banana"}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("filter 'port banana'"), std::string::npos) << bad.err;
}

// libpcap is loaded when a filter needs it, not at start-up (wire/libpcap.h): in a private mount
// namespace where the library is hidden, a capture still reads, and a filter is one line naming
// the package, exit 3.
TEST_F(AnalyzeCli, LibpcapIsLoadedOnlyForAFilter) {
  if (!have_tool("unshare")) GTEST_SKIP() << "no unshare";
  auto hidden = [](const std::string& args) {
    return run_command({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "for l in /usr/lib/*/libpcap.so.0.8 /usr/lib/*/libpcap.so.1; do [ -e \"$l\" ] && "
                        "mount --bind /dev/null \"$l\"; done; exec " +
                            synscope_binary() + " analyze " + args});
  };
  auto plain = hidden(pcap("kernel-normal-v4v6.pcap") + " --json");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(of_type(parse_json_lines(plain.out), "connection").size(), 40u);
  auto filtered = hidden(pcap("kernel-normal-v4v6.pcap") + " ip6");
  EXPECT_EQ(filtered.exit_code, 3) << filtered.out << filtered.err;
  EXPECT_NE(filtered.err.find("libpcap"), std::string::npos) << filtered.err;
  EXPECT_NE(filtered.err.find("apt-get install libpcap0.8"), std::string::npos) << filtered.err;
  EXPECT_EQ(std::count(filtered.err.begin(), filtered.err.end(), '\n'), 1) << filtered.err;
}

TEST_F(AnalyzeCli, SeveralFilesAreOneCapture) {
  auto r = run_command(analyze({pcap("kernel-refused.pcap"), pcap("kernel-tfo.pcap"), "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = of_type(parse_json_lines(r.out), "summary").at(0);
  EXPECT_EQ(s.at("files"), 2);
  EXPECT_EQ(s.at("refused"), 5);
  EXPECT_EQ(s.at("conn_state").at("REJ"), 5);
  EXPECT_EQ(s.at("refused_ports").size(), 5u);
}

TEST_F(AnalyzeCli, SummaryFlagsTheSynFlood) {
  auto r = run_command(analyze({pcap("kernel-halfopen.pcap")}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("44 half-open (S0)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SYN FLOOD"), std::string::npos) << r.out;
  auto j = run_command(analyze({pcap("kernel-halfopen.pcap"), "--json"}));
  auto s = of_type(parse_json_lines(j.out), "summary").at(0);
  EXPECT_EQ(s.at("top_half_open").at(0).at("server"), "127.0.0.1:8080");
  EXPECT_EQ(s.at("top_half_open").at(0).at("syn_flood"), true);
  EXPECT_EQ(s.at("top_half_open").at(1).at("syn_flood"), false);  // 4 shut-out clients: no flood
  EXPECT_EQ(s.at("syn_retransmits").at("3"), 4);
}

TEST_F(AnalyzeCli, TfoDataOnTheSyn) {
  auto r = run_command(analyze({pcap("kernel-tfo.pcap"), "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto conns = of_type(parse_json_lines(r.out), "connection");
  ASSERT_EQ(conns.size(), 4u);
  EXPECT_EQ(conns[0].at("tfo").at("cookie_requested"), true);
  EXPECT_EQ(conns[0].at("tfo").at("cookie_granted"), true);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(conns[i].at("tfo").at("cookie_sent"), true);
    EXPECT_EQ(conns[i].at("tfo").at("syn_data_bytes"), 18);
    EXPECT_EQ(conns[i].at("tfo").at("syn_data_acked"), true);
  }
}

TEST_F(AnalyzeCli, CsvAndConnectionTable) {
  auto csv = run_command(analyze({pcap("kernel-refused.pcap"), "--csv"}));
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_TRUE(csv.out.starts_with("id,client,server,vlan,first_unix_ns,")) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 6);  // header + 5 rows
  EXPECT_NE(csv.out.find(",REJ,"), std::string::npos);
  auto table = run_command(analyze({pcap("kernel-refused.pcap"), "--connections"}));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(table.out.starts_with("id  client")) << table.out;
  EXPECT_NE(table.out.find("REJ"), std::string::npos);
}

// A second file that is not there is named as a file, not read as the start of a filter; a
// --report that cannot be written is refused before the work; both exit 2, as --help says.
TEST_F(AnalyzeCli, AMissingFileAndAnUnwritableReportAreSaidBeforeTheWork) {
  temp_dir dir;
  auto missing = run_command(analyze({pcap("kernel-refused.pcap"), dir.path("missing.pcap")}));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("missing.pcap: cannot open: No such file"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.err.find("filter"), std::string::npos) << missing.err;
  auto report = run_command(analyze({pcap("kernel-refused.pcap"), "--report", dir.path("no/such/folder/r.html")}));
  EXPECT_EQ(report.exit_code, 2);
  EXPECT_NE(report.err.find("--report"), std::string::npos) << report.err;
  EXPECT_TRUE(report.out.empty()) << "nothing analyzed: " << report.out;
  auto help = run_command({synscope_binary(), "analyze", "--help"});
  EXPECT_NE(help.out.find("2 bad arguments, a file that is not there or unreadable, a --report"), std::string::npos)
      << help.out;
}

TEST_F(AnalyzeCli, LadderOfARetransmittedSyn) {
  auto r = run_command(analyze({pcap("kernel-synretrans.pcap"), "--ladder", "0,99"}));
  EXPECT_EQ(r.exit_code, 2) << "an id no connection has is an error, after the ladders that are there";
  EXPECT_TRUE(r.out.starts_with("connection 0: 127.0.0.1:")) << r.out;
  // Two SYN rows (the first was dropped), then the SYN-ACK acknowledging ISN+1.
  size_t first = r.out.find("|--- [S] seq=0 ");
  ASSERT_NE(first, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("|--- [S] seq=0 ", first + 1), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[S.] seq=0 ack=1 ---|"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TIME-WAIT"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("--ladder 99: no such connection (this capture has 4 connections, ids 0 to 3"), std::string::npos)
      << r.err;
}

TEST_F(AnalyzeCli, TruncatedFileWarnsAndAnalyzesWhatIsThere) {
  auto r = run_command(analyze({pcap("derived-truncated-eof.pcap"), "--json"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cut short"), std::string::npos) << r.err;
  auto s = of_type(parse_json_lines(r.out), "summary").at(0);
  EXPECT_EQ(s.at("completed"), 3);
  EXPECT_EQ(s.at("warnings").size(), 1u);
}

TEST_F(AnalyzeCli, BadInputIsOneLineWithAnExitCode) {
  temp_dir dir;
  std::string text = dir.path("notes.txt");
  ASSERT_EQ(run_command({"sh", "-c", "echo 'not a capture at all' > \"$0\"", text}).exit_code, 0);
  auto not_capture = run_command(analyze({text}));
  EXPECT_EQ(not_capture.exit_code, 4);
  EXPECT_NE(not_capture.err.find(text + ": byte offset 0, packet 1: not a pcap or pcapng file"), std::string::npos)
      << not_capture.err;
  EXPECT_EQ(std::count(not_capture.err.begin(), not_capture.err.end(), '\n'), 1);
  auto missing = run_command(analyze({dir.path("missing.pcap")}));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
  // A record longer than the snapshot length: corrupt, named by offset and packet.
  std::string bad = dir.path("bad.pcap");
  ASSERT_EQ(run_command({"sh", "-c",
                         "printf '\\324\\303\\262\\241\\002\\000\\004\\000\\000\\000\\000\\000\\000\\000\\000\\000"
                         "\\100\\000\\000\\000\\001\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
                         "\\000\\000\\020\\000\\000\\000\\020\\000' > \"$0\"",
                         bad})
                .exit_code,
            0);
  auto corrupt = run_command(analyze({bad}));
  EXPECT_EQ(corrupt.exit_code, 4);
  EXPECT_NE(corrupt.err.find("byte offset 24, packet 1: record length 1048576 exceeds the snapshot length"),
            std::string::npos)
      << corrupt.err;
}

}  // namespace
}  // namespace synscope::testing
