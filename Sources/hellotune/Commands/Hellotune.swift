import ArgumentParser
import Support

struct Hellotune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hellotune",
        abstract: "Find out what a fine-tuned language model knows about its own learned behaviour.",
        discussion: """
        With no subcommand, opens the interactive explorer on the default model.
        Models, runs and the database live under $HELLOTUNE_HOME (default ~/.cache/hellotune).
        """,
        subcommands: [Explore.self, ModelCommand.self, TokenizeCommand.self, LogitsCommand.self, ChatCommand.self,
                      TrainCommand.self, RunCommand.self, ProbeCommand.self, ReportCommand.self, CompareCommand.self, LabelCommand.self, WorkerCommand.self, BenchCommand.self, ScoreCommand.self, DatasetCommand.self, JobsCommand.self, FinetuneCommand.self, ExportCommand.self],
        defaultSubcommand: Explore.self
    )
}
